"""The supervision console (监督控制台) under ``/console``: read-only, server-rendered pages for the bureau, the
leading group, inspectors and (their own zones only) applicants, signed in by a token kept in a cookie."""
