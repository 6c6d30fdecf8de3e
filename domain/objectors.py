"""An objector's identity (异议人) under PIPL: kept out of the record, which holds a salted commitment to it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from dataclasses import field

from domain import intake
from domain.errors import InvalidValueError
from domain.integrity import jcs

SALT_BYTES = 32


def commitment(salt: bytes, name: str, contact: str) -> str:
    """SHA-256 over the salt and the JCS of ``{contact, name}``: binds the record to the identity without it.

    Without the salt (32 random bytes, kept only with the encrypted identity) no guess of a name or a phone
    number can be checked against it; with the salt, the bureau can show that the identity is the one recorded."""
    return hashlib.sha256(salt + jcs({"contact": contact, "name": name})).hexdigest()


@dataclass(frozen=True)
class Objector:
    """Who objects: the name and contact given, the salt of their commitment, and the opaque reference under
    which they are kept apart from the record (the application draws salt and reference at random)."""

    name: str = field(repr=False)  # personal data: kept out of every log line and traceback
    contact: str = field(repr=False)
    salt: bytes = field(repr=False)
    ref: str

    @classmethod
    def given(cls, name: object, contact: object, *, salt: bytes, ref: str) -> Objector:
        """The objector as given, each text checked (name at most 200 characters, contact 500)."""
        if len(salt) != SALT_BYTES or not ref:
            raise InvalidValueError("An objector's identity needs a 32-byte salt and a reference.")
        return cls(
            name=intake.text(name, "objector_name", limit=200),
            contact=intake.text(contact, "contact", limit=500),
            salt=salt,
            ref=ref,
        )

    @property
    def commitment(self) -> str:
        """What the record holds of the identity."""
        return commitment(self.salt, self.name, self.contact)
