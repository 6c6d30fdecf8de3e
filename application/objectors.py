"""Objectors' personal data under PIPL (个人信息保护法: purpose limitation, minimisation, deletion when no longer
needed): drawn and sealed when an objection is recorded, revealed to the bureau and inspectors, erased on request or
when the retention the bureau sets has run out.

The event records the objector's reference and a salted commitment (``domain.objectors``); the name, the contact
and the salt are encrypted with AES-256-GCM under a key of their own (``application.objector_tables``). Erasing
deletes the key (and the ciphertext) and records who erased it, when and why; the events are untouched, so the
hash chain, the Merkle tree and every export still verify."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import UTC
from datetime import date
from datetime import datetime
from typing import Any
from uuid import UUID
from uuid import uuid4

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.core import ZoneCore
from application.objector_tables import Erasure
from application.objector_tables import ObjectorRecord
from application.objector_tables import SealedObjector
from application.objector_tables import StoredObjector
from domain import intake
from domain.errors import AlreadyErasedError
from domain.errors import NotPermittedError
from domain.errors import ObjectorNotErasableError
from domain.errors import ZoneNotFoundError
from domain.objectors import SALT_BYTES
from domain.objectors import Objector
from domain.objectors import commitment
from domain.values import SYSTEM
from domain.values import Actor
from domain.values import add_years
from domain.values import local_date
from domain.zone import Zone

CLOSED = ("granted", "rejected", "not_passed", "revoked")  # a case that reaches one of these has closed
NONCE_BYTES = 12


def new_objector(name: Any, contact: Any) -> Objector:
    """The objector as given, with a fresh random salt and reference."""
    return Objector.given(name, contact, salt=secrets.token_bytes(SALT_BYTES), ref=str(uuid4()))


def _bound_to(ref: str, zone_id: str, objection_id: str) -> bytes:
    """The associated data: a ciphertext opens only as the identity of its own objection."""
    return f"zonecase-objector/1|{ref}|{zone_id}|{objection_id}".encode()


def seal(objector: Objector, *, zone_id: UUID, objection_id: str, at: datetime) -> ObjectorRecord:
    """The identity (name, contact, salt) encrypted under a new key, to be written with the objection's events."""
    key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(NONCE_BYTES)
    plain = {"name": objector.name, "contact": objector.contact, "salt": objector.salt.hex()}
    ciphertext = AESGCM(key).encrypt(
        nonce, json.dumps(plain, ensure_ascii=False).encode(), _bound_to(objector.ref, str(zone_id), objection_id)
    )
    sealed = SealedObjector(objector.ref, str(zone_id), objection_id, nonce, ciphertext, at.astimezone(UTC).isoformat())
    return ObjectorRecord(sealed, key)


def unseal(stored: StoredObjector) -> dict[str, str] | None:
    """The identity, or None once its key is gone."""
    s, key = stored.sealed, stored.key
    if s is None or key is None:
        return None
    plain = AESGCM(key).decrypt(s.nonce, s.ciphertext, _bound_to(s.ref, s.zone_id, s.objection_id))
    return dict(json.loads(plain))


def erasure_shown(e: Erasure) -> dict[str, Any]:
    """An erasure as the bureau's views show it: when, by whom, why, and "erased on <day> (<reason>)"."""
    day = local_date(datetime.fromisoformat(e.erased_at)).isoformat()
    return {
        "erased_at": e.erased_at,
        "erased_on": day,
        "erased_by": e.erased_by,
        "reason": e.reason,
        "text": f"erased on {day} ({e.reason})",
    }


def identity(stored: StoredObjector | None, recorded_commitment: str | None) -> dict[str, Any]:
    """What the bureau and inspectors are shown of an objector: name and contact (and whether they match the
    record's commitment), or the erasure."""
    if stored is not None and stored.erasure is not None:
        return {"objector_name": None, "contact": None, "objector_erased": erasure_shown(stored.erasure)}
    plain = None if stored is None else unseal(stored)
    if plain is None:  # neither held nor erased: written by no transaction this store knows
        return {"objector_name": None, "contact": None, "objector_erased": None, "objector_unavailable": True}
    matches = commitment(bytes.fromhex(plain["salt"]), plain["name"], plain["contact"]) == recorded_commitment
    return {
        "objector_name": plain["name"],
        "contact": plain["contact"],
        "objector_erased": None,
        "objector_matches_record": matches,
    }


def revealed(app: ZoneCore, objections: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The objections (as the zone document lists them) with their objectors' identities filled in, for the
    bureau and inspectors; one recorded with the name in the event (before v3) is shown as recorded."""
    items = [dict(o) for o in objections]
    stored = app.side_tables.get_objectors([o["objector_ref"] for o in items if o.get("objector_ref")])
    for o in items:
        if o.get("objector_ref"):
            o.update(identity(stored.get(o["objector_ref"]), o.get("objector_commitment")))
    return items


def with_objectors(app: ZoneCore, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history for the bureau and inspectors: each objection of v3 with its ``objector`` beside its data
    (decrypted, or the erasure); the data stays exactly as hashed."""
    raised = [e for e in entries if e["type"] == "ObjectionRaised" and e["data"].get("objector_ref")]
    stored = app.side_tables.get_objectors([e["data"]["objector_ref"] for e in raised])
    for e in raised:
        e["objector"] = identity(stored.get(e["data"]["objector_ref"]), e["data"].get("objector_commitment"))
    return entries


def erase(app: ZoneCore, zone_id: UUID, objection_id: str, actor: Actor, reason: Any) -> dict[str, Any]:
    """Erases one objector's name and contact (the bureau, on a lawful request; the system, at the end of the
    retention): the key and the ciphertext are deleted and the erasure recorded; the events are untouched."""
    if actor.role not in ("bureau", "system"):
        raise NotPermittedError("Only the bureau erases an objector's personal data.")
    zone = app.get_zone(zone_id)
    objection = zone.objections.get(objection_id)
    if objection is None:
        raise ZoneNotFoundError(f"This zone has no objection {objection_id}.")
    if objection.objector_ref is None:
        raise ObjectorNotErasableError(
            "This objection was recorded before v3, with the objector's name and contact in its event; stored events "
            "are kept forever and hashed, so they cannot be erased from the record (they stay hidden from everyone "
            "but the bureau and inspectors)."
        )
    why = intake.text(reason, "reason", limit=2000)
    erasure = Erasure(
        ref=objection.objector_ref,
        zone_id=str(zone_id),
        objection_id=objection_id,
        erased_at=app.clock.now().astimezone(UTC).isoformat(),
        erased_by=f"{actor.role}:{actor.sub}",
        reason=why,
    )
    if not app.side_tables.erase_objector(erasure):
        raise AlreadyErasedError("This objector's personal data has been erased already.")
    return {"zone_id": str(zone_id), "objection_id": objection_id, **erasure_shown(erasure)}


def closings(events: Iterable[Any]) -> dict[str, datetime]:
    """When each objection's case closed: the first event after it was raised that left the zone granted,
    rejected, not passed or revoked (objections whose case is still open are left out)."""
    zone: Any = None
    waiting: set[str] = set()
    closed: dict[str, datetime] = {}
    for event in events:
        zone = event.mutate(zone)
        if not isinstance(zone, Zone):
            return {}
        if waiting and zone.status in CLOSED:
            closed.update(dict.fromkeys(waiting, event.timestamp))
            waiting = set()
        waiting |= {oid for oid in zone.objections if oid not in closed}
    return closed


def due_for_erasure(app: ZoneCore, now: datetime) -> list[tuple[str, str, date]]:
    """``(zone_id, objection_id, closed_on)`` of every objector still held whose retention has run out."""
    years = app.policy.objector_retention_years
    by_zone: dict[str, list[str]] = {}
    for _, zone_id, objection_id in app.side_tables.unerased_objectors():
        by_zone.setdefault(zone_id, []).append(objection_id)
    today = local_date(now)
    due = []
    for zone_id, objection_ids in by_zone.items():
        closed = closings(app.events.get(UUID(zone_id)))
        for oid in objection_ids:
            if oid in closed and add_years(local_date(closed[oid]), years) <= today:
                due.append((zone_id, oid, local_date(closed[oid])))
    return due


def retention_sweep(app: ZoneCore) -> list[dict[str, Any]]:
    """Erases every objector whose retention (``objector_retention_years`` after the case closed) has run out, at
    the application's now; returns the erasures. Safe to run twice or in two processes: an erasure is made once."""
    years = app.policy.objector_retention_years
    erased = []
    for zone_id, oid, closed_on in due_for_erasure(app, app.clock.now()):
        reason = f"retention: {years} years after the case closed on {closed_on.isoformat()}"
        try:
            erased.append(erase(app, UUID(zone_id), oid, SYSTEM, reason))
        except AlreadyErasedError:
            continue  # another sweeper, or the bureau, erased it meanwhile
    return erased
