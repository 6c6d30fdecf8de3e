"""Signed checkpoints over the log, and the proofs that tie an event or an older checkpoint to them."""

from __future__ import annotations

from typing import Annotated
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi import Query

from api.deps import Services
from api.deps import ServicesDep
from api.deps import read
from api.errors import ApiProblem
from audit.checkpoints import Checkpointer
from audit.checkpoints import EmptyLogError
from audit.checkpoints import public_pem
from projections.history import rank_of

router = APIRouter(tags=["checkpoints (public)"])


def _checkpointer(c: Services) -> Checkpointer:
    if c.checkpoints is None:
        raise ApiProblem(503, "checkpoints_unavailable", "This process does not sign checkpoints.")
    return c.checkpoints


@router.get("/checkpoints/public-key")
def public_key(c: ServicesDep) -> dict[str, Any]:
    """The public half of the signing key (Ed25519), with its id: pin it to verify checkpoints offline."""
    key = _checkpointer(c).key
    return {"algorithm": "Ed25519", "key_id": key.key_id, "public_key_pem": public_pem(key.public)}


@router.get("/checkpoints/latest")
def latest(c: ServicesDep) -> dict[str, Any]:
    """The latest signed tree head: tree size, Merkle root, time, key id, signature."""
    found = c.app.side_tables.latest_checkpoint()
    if found is None:
        raise ApiProblem(404, "not_found", "No checkpoint has been signed yet.")
    return found.as_dict()


@router.get("/checkpoints")
def history(
    c: ServicesDep,
    since: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Signed tree heads, smallest first, from tree size ``since``."""
    return [cp.as_dict() for cp in c.app.side_tables.get_checkpoints(since=since, limit=limit)]


@router.post("/checkpoints", status_code=201)
def sign_now(c: ServicesDep) -> dict[str, Any]:
    """Signs the log as it stands (also done hourly and at every public notice)."""
    try:
        return _checkpointer(c).sign("on request").as_dict()
    except EmptyLogError as e:
        raise ApiProblem(409, "empty_log", str(e)) from None


@router.get("/audit/proofs/inclusion")
def inclusion(
    c: ServicesDep,
    zone_id: UUID,
    seq: Annotated[int, Query(ge=1, le=10**9)],
    tree_size: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """The audit path of a zone's event (by its ``seq``) in a signed tree head (default: the first one that
    includes it, else the latest)."""
    checkpointer = _checkpointer(c)
    checkpointer.tree()
    with read(c, "history") as tx:
        found = rank_of(tx, str(zone_id), seq)
    if found is None:
        raise ApiProblem(404, "not_found", f"No event {seq} of zone {zone_id}.")
    index, position = found
    side = c.app.side_tables
    if tree_size is None:
        covering = side.get_checkpoints(since=index + 1, limit=1)
        checkpoint = covering[0] if covering else None
        if checkpoint is None or checkpoint.tree_size <= index:
            checkpoint = checkpointer.sign("for an inclusion proof")
    else:
        matching = side.get_checkpoints(since=tree_size, limit=1)
        if not matching or matching[0].tree_size != tree_size:
            raise ApiProblem(404, "not_found", f"No checkpoint of size {tree_size}.")
        checkpoint = matching[0]
        if tree_size <= index:
            raise ApiProblem(422, "validation_failed", f"The checkpoint of size {tree_size} predates the event.")
    return {
        **checkpointer.inclusion(position, checkpoint.tree_size),
        "zone_id": str(zone_id),
        "seq": seq,
        "checkpoint": checkpoint.as_dict(),
    }


@router.get("/audit/proofs/consistency")
def consistency(
    c: ServicesDep,
    first: Annotated[int, Query(ge=1, le=2**62)],
    second: Annotated[int, Query(ge=1, le=2**62)],
) -> dict[str, Any]:
    """The proof that the log of ``second`` events extends the log of ``first`` (it only grew)."""
    checkpointer = _checkpointer(c)
    size = checkpointer.tree().size
    if not first <= second <= size:
        raise ApiProblem(422, "validation_failed", f"Need 1 <= first <= second <= {size} (the log's size).")
    return checkpointer.consistency(first, second)
