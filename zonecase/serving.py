"""How ``zonecase serve`` runs uvicorn: request heads bounded at the parser, before they are read into memory."""

from __future__ import annotations

import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.main import MAX_HEADER_BYTES

# The request line and headers together: h11 stops buffering an incomplete head past this many bytes. A
# complete head that arrives whole and is larger still reaches the application, which answers it 431 too.
MAX_HEAD_BYTES = MAX_HEADER_BYTES


class _Connection(h11.Connection):
    """h11's connection, remembering that its last error was a head too large (h11 hints 431)."""

    too_large = False

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as e:
            self.too_large = e.error_status_hint == 431
            raise


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol answering an oversize head ``431`` (problem+json) rather than a bare 400, and
    closing the connection: at most ``MAX_HEAD_BYTES`` and one read are ever held for it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _Connection(h11.SERVER, self.config.h11_max_incomplete_event_size or MAX_HEAD_BYTES)

    def send_400_response(self, msg: str) -> None:
        if not getattr(self.conn, "too_large", False):
            super().send_400_response(msg)
            return
        body = json.dumps(
            {
                "type": "https://zonecase.example/problems/headers_too_large",
                "title": "Request header fields too large",
                "status": 431,
                "detail": f"The request line and headers are larger than {MAX_HEAD_BYTES} bytes.",
                "code": "headers_too_large",
            }
        ).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
            (b"x-content-type-options", b"nosniff"),
        ]
        response = h11.Response(status_code=431, headers=headers, reason=b"Request Header Fields Too Large")
        self.transport.write(self.conn.send(response) or b"")
        self.transport.write(self.conn.send(h11.Data(data=body)) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()


def uvicorn_options() -> dict[str, Any]:
    """What ``uvicorn.run`` is given besides the application, host and port."""
    from zonecase.logs import log_config

    return {
        "http": BoundedH11Protocol,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "log_config": log_config(),  # JSON lines (zonecase.logs); one per request from api.observe
        "access_log": False,
    }
