"""A public objection's body: JSON, or multipart/form-data with its evidence files (the public cannot cite stored
documents by hash: that would tell it which documents exist)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import schemas
from api.commands import Command
from api.documents import MEDIA_TYPES
from api.documents import DocumentStore
from api.documents import sniff
from api.errors import ApiProblem
from api.routers.documents import stored
from application.store import DocumentMeta


@dataclass(frozen=True)
class ObjectionSubmission:
    """The objection's fields, validated, and the evidence files sent with it (name, bytes)."""

    body: schemas.ObjectionIn
    files: list[tuple[str, bytes]] = field(default_factory=list)


async def objection_submission(request: Request) -> ObjectionSubmission:
    """Reads the objection as JSON, or as multipart/form-data (its fields, and up to 5 ``evidence`` files)."""
    files: list[tuple[str, bytes]] = []
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        limit: int = request.app.state.max_document_bytes
        try:
            form = await request.form(
                max_files=schemas.EVIDENCE_FILES_MAX, max_fields=20, max_part_size=4 * schemas.OBJECTION_TEXT_MAX
            )
        except StarletteHTTPException as e:
            raise ApiProblem(422, "validation_failed", f"The form is not valid: {e.detail}") from None
        data: dict[str, Any] = {}
        try:
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if name != "evidence":
                        raise ApiProblem(422, "validation_failed", f"Files are sent as evidence, not as {name!r}.")
                    content = await value.read(limit + 1)
                    if len(content) > limit:
                        raise ApiProblem(413, "payload_too_large", f"An evidence file may be at most {limit} bytes.")
                    files.append(((value.filename or "evidence")[:300], content))
                else:
                    data[name] = value
        finally:
            await form.close()
    else:
        raw = await request.body()
        try:
            data = json.loads(raw)
        except ValueError:
            errors = [{"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error", "input": {}}]
            raise RequestValidationError(errors) from None
    try:
        return ObjectionSubmission(schemas.ObjectionIn.model_validate(data), files)
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in e.errors()]) from None


def store_evidence(cmd: Command, files: list[tuple[str, bytes]]) -> list[dict[str, str]]:
    """Stores the evidence files sent with an objection; their references, as ``evidence`` holds them."""
    store: DocumentStore = cmd.request.app.state.documents
    checked = []
    for i, (name, content) in enumerate(files):
        media_type = sniff(content)
        if not content or media_type is None:
            raise ApiProblem(
                415 if content else 422,
                "unsupported_media_type" if content else "validation_failed",
                f"Evidence file {i + 1} ({name}) is "
                + ("not of an accepted type. Accepted: " + ", ".join(MEDIA_TYPES.values()) if content else "empty")
                + ".",
            )
        checked.append((name, content, media_type))
    refs = []
    for name, content, media_type in checked:
        digest = stored(store, content)
        at = cmd.services.clock.now().astimezone(UTC).isoformat()
        cmd.app.side_tables.put_document(
            DocumentMeta(digest, len(content), media_type, name, cmd.principal.sub, at), ""
        )
        refs.append({"sha256": digest, "name": name})
    return refs


def objection_body_schema() -> dict[str, Any]:
    """The request body as OpenAPI shows it: JSON, or the same fields as a form with ``evidence`` files."""
    fields = schemas.ObjectionIn.model_json_schema(ref_template="#/components/schemas/{model}")
    fields.pop("$defs", None)
    form = {
        **fields,
        "properties": {
            **{k: v for k, v in fields["properties"].items() if k != "evidence"},
            "evidence": {
                "type": "array",
                "maxItems": schemas.EVIDENCE_FILES_MAX,
                "items": {"type": "string", "format": "binary"},
            },
        },
    }
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": fields}, "multipart/form-data": {"schema": form}},
        }
    }
