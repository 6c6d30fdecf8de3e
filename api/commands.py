"""The shared path of every command: the caller, idempotency, the command, the answer (with the log position it
reached, for read-your-writes: ``api.positions``)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Depends
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import IdempotencyKeyDep
from api.deps import IfMatchDep
from api.deps import Principal
from api.deps import Roles
from api.deps import Services
from api.deps import ServicesDep
from api.errors import ApiProblem
from api.positions import position_headers
from application.commands import ZoneCommand
from application.core import Idempotency
from application.core import Options
from application.service import ZoneApplication
from application.store import IdempotencyRecord
from domain.call import Call
from domain.errors import ZoneError
from domain.values import Actor
from domain.zone import Zone

# Requests with one key wait for each other in this process (striped: memory does not grow with the keys), so that
# a racing twin replays the first answer instead of acting on the state its twin left; across processes, a twin that
# lost the race finds the winner's record once its own act is refused.
_KEY_LOCKS = [threading.Lock() for _ in range(64)]
Recorded = Zone | Call  # what a command records on: a zone, or a call for applications


def request_hash(request: Request, body: BaseModel | None) -> str:
    """What makes two requests 'the same': method, path and the validated body."""
    payload = {
        "method": request.method,
        "path": request.url.path,
        "body": None if body is None else body.model_dump(mode="json"),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _replay(record: IdempotencyRecord, collection: str) -> JSONResponse:
    body = json.loads(record.body)
    headers = {"Idempotency-Replayed": "true"}
    if record.status == 201 and isinstance(body, dict) and "id" in body:
        headers["Location"] = f"{collection}/{body['id']}"
    return JSONResponse(body, status_code=record.status, headers=headers)


@dataclass(frozen=True)
class Command:
    """One command request: who sends it, at which version, with which idempotency key."""

    request: Request
    services: Services
    principal: Principal
    version: int | None
    key: str | None

    @property
    def app(self) -> ZoneApplication:
        """The application service the command goes to."""
        return self.services.app

    @property
    def actor(self) -> Actor:
        """The caller, as the events record it."""
        return self.principal.actor

    def run(
        self,
        body: BaseModel | None,
        act: Callable[[Options], Recorded],
        *,
        status: int = 200,
        answer: Callable[[Any], dict[str, Any]] | None = None,
    ) -> JSONResponse:
        """Runs ``act`` once per idempotency key and answers once its events are committed
        (by default with the zone as the caller may see it; a 201 names the new record's ``Location``)."""
        with self.app.activity.command():  # the views wait for a quiet moment (projections.runner)
            return self._run(body, act, status, answer)

    def _run(
        self,
        body: BaseModel | None,
        act: Callable[[Options], Recorded],
        status: int,
        answer: Callable[[Any], dict[str, Any]] | None,
    ) -> JSONResponse:
        side, digest = self.app.side_tables, request_hash(self.request, body)
        collection = self.request.url.path.rstrip("/")
        if self.key is None:
            return self._act(body, act, None, digest, status, answer, collection)
        owner = self.key_owner(digest)
        with _KEY_LOCKS[hash((owner, self.key)) % len(_KEY_LOCKS)]:
            earlier = side.get_idempotency(owner, self.key)
            if earlier is not None:
                return self._replayed(earlier, digest, collection)
            try:
                return self._act(body, act, owner, digest, status, answer, collection)
            except ZoneError:
                earlier = side.get_idempotency(owner, self.key)  # a twin in another process won the race
                if earlier is None:
                    raise
                return self._replayed(earlier, digest, collection)

    def key_owner(self, digest: str) -> str:
        """Whose namespace an ``Idempotency-Key`` lives in: the token's subject; for the public (no token), the client
        address and the request itself, so that no caller can squat another's key or read its answer."""
        if self.principal.role != "public":
            return self.principal.sub
        address = self.request.client.host if self.request.client else ""
        return "public:" + hashlib.sha256(f"{address}\n{digest}".encode()).hexdigest()[:32]

    def _replayed(self, earlier: IdempotencyRecord, digest: str, collection: str) -> JSONResponse:
        if earlier.request_hash != digest:
            raise ApiProblem(
                422, "idempotency_key_reused", "This Idempotency-Key was already used with a different request."
            )
        response = _replay(earlier, collection)
        # the first answer's events are committed, somewhere before the log's head: reads after it wait for that
        for name, value in position_headers(self.app.recorder.max_notification_id()).items():
            response.headers.append(name, value)
        return response

    def _act(
        self,
        body: BaseModel | None,
        act: Callable[[Options], Recorded],
        owner: str | None,
        digest: str,
        status: int,
        answer: Callable[[Any], dict[str, Any]] | None,
        collection: str,
    ) -> JSONResponse:
        options: Options = {"expected_version": self.version}
        if owner is not None and self.key is not None:
            options["idempotency"] = Idempotency(owner, self.key, digest, status, self.principal.role)
        self.app.forget_position()
        recorded = act(options)  # committed: the answer is the aggregate's, the views catch up behind it
        if answer is not None:
            payload = answer(recorded)
        else:
            assert isinstance(recorded, Zone)
            payload = self.app.answer(recorded, self.principal.role)
        headers = {"ETag": f'"{recorded.version}"', **position_headers(self.app.last_position())}
        if status == 201 and "id" in payload:
            headers["Location"] = f"{collection}/{payload['id']}"
        return JSONResponse(payload, status_code=status, headers=headers)

    def send(self, zone_id: UUID, body: BaseModel | None, command: ZoneCommand) -> JSONResponse:
        """Runs a command value on a zone (see ``run``)."""
        return self.run(body, lambda o: self.app.execute(zone_id, self.actor, command, **o))


def By(*roles: str, anonymous: bool = False, creates: bool = False) -> Any:
    """The command-context dependency: the caller must hold one of ``roles`` (checked first: 401, then 403)."""
    # The defaults are evaluated here, with ``roles``; the caller is declared first, so that a missing token or
    # a role that may not act is answered before the If-Match header or the body is judged.
    permitted = Roles(*roles, anonymous=anonymous)

    async def context(  # async: FastAPI would run a plain def in the thread pool
        request: Request,
        services: ServicesDep,
        principal: Principal = permitted,
        version: IfMatchDep = None,
        key: IdempotencyKeyDep = None,
    ) -> Command:
        return Command(request, services, principal, version, key)

    async def creating(
        request: Request, services: ServicesDep, principal: Principal = permitted, key: IdempotencyKeyDep = None
    ) -> Command:
        return Command(request, services, principal, None, key)

    return Depends(creating if creates else context)
