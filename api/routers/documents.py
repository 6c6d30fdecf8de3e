"""Documents: upload once, reference everywhere by SHA-256."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Annotated
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi import File
from fastapi import Path
from fastapi import Request
from fastapi import UploadFile
from fastapi.responses import Response

from api import schemas
from api.deps import Principal
from api.deps import PrincipalDep
from api.deps import Services
from api.deps import ServicesDep
from api.deps import require_roles
from api.documents import MEDIA_TYPES
from api.documents import DocumentStorageError
from api.documents import DocumentStore
from api.documents import sniff
from api.errors import ApiProblem
from application.store import DocumentMeta

router = APIRouter(prefix="/documents", tags=["documents"])


def _store(request: Request) -> DocumentStore:
    store: DocumentStore = request.app.state.documents
    return store


@router.post(
    "",
    status_code=201,
    response_model=schemas.DocumentOut,
    responses={
        413: {"description": "Too large"},
        415: {"description": "Not an accepted file type"},
        503: {"description": "The document storage is read-only or unavailable (storage_read_only)"},
        507: {"description": "The document storage is full (storage_full)"},
    },
)
async def upload(
    request: Request,
    c: ServicesDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="the document")],
) -> dict[str, Any]:
    """Stores the bytes and returns ``{sha256, size, media_type, name}``; the same bytes give the same
    hash and are stored once. Accepted: PDF, PNG, JPEG, Word, Excel, OFD, UTF-8 text."""
    limit: int = request.app.state.max_document_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise ApiProblem(413, "payload_too_large", f"A document may be at most {limit} bytes.")
    if not data:
        raise ApiProblem(422, "validation_failed", "The file is empty.", errors=[{"loc": ["file"], "msg": "empty"}])
    media_type = sniff(data)
    if media_type is None:
        raise ApiProblem(
            415,
            "unsupported_media_type",
            "This file type is not accepted. Accepted: " + ", ".join(MEDIA_TYPES.values()) + ".",
        )
    name = (file.filename or "document")[:300]
    digest = stored(_store(request), data)
    meta = DocumentMeta(digest, len(data), media_type, name, principal.sub, c.clock.now().astimezone(UTC).isoformat())
    c.app.side_tables.put_document(meta, principal.org if principal.role == "applicant" else "")
    return {"sha256": digest, "size": len(data), "media_type": media_type, "name": name}


def stored(store: DocumentStore, data: bytes) -> str:
    """Puts the bytes into the store; a full directory is 507 ``storage_full``, a read-only one 503
    ``storage_read_only`` (with ``Retry-After``)."""
    try:
        return store.put(data)
    except DocumentStorageError as e:
        if e.code == "storage_full":
            raise ApiProblem(507, e.code, "The document storage is full; the document was not stored.") from None
        raise ApiProblem(
            503,
            e.code,
            "The document storage cannot be written to now"
            + (" (read-only)" if e.code == "storage_read_only" else "")
            + "; the document was not stored.",
            headers={"Retry-After": "30"},
        ) from None


@router.get(
    "/{sha256}",
    responses={403: {"description": "Not allowed"}, 404: {"description": "Unknown document"}},
    response_class=Response,
)
def download(
    request: Request, c: ServicesDep, principal: PrincipalDep, sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
) -> Response:
    """The bytes (bureau, inspector, leading group, and the applicant organisation that uploaded them)."""
    return document_download(request, c, principal, sha256)


def document_download(request: Request, c: Services, principal: Principal, sha256: str) -> Response:
    """A stored document for ``principal`` under the API's rules (bureau, inspector, leading group, and the
    applicant organisation that uploaded it), as a download: 404 unknown, 403 not allowed. The console's
    ``/console/documents/{sha256}`` serves it through this same check."""
    found = c.app.side_tables.get_document(sha256)
    if found is None:
        raise ApiProblem(404, "not_found", "No document with this hash.")
    meta, orgs = found
    if principal.role == "applicant":
        if principal.org not in orgs:
            raise ApiProblem(403, "forbidden", "An applicant may read only documents its organisation uploaded.")
    else:
        require_roles(principal, "bureau", "inspector", "leading_group")
    data = _store(request).get(sha256)
    if data is None:
        raise ApiProblem(404, "not_found", "The document's bytes are missing from the document store.")
    headers = {"ETag": f'"{sha256}"', "Content-Disposition": attachment(meta.name), "Cache-Control": "no-store"}
    return Response(data, media_type=meta.media_type, headers=headers)


def attachment(name: str) -> str:
    """``Content-Disposition``: always a download, never shown inline (an uploaded PDF that is also HTML stays
    a file), named by a plain ASCII fallback and the exact name in RFC 8187's ``filename*``."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:150] or "document"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name[:300], safe='')}"
