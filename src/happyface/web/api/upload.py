"""`POST /upload/NAME`: a file pushed to HappyFace, for data it cannot fetch itself.

Each `[[upload]]` has its own tokens: a token writes its own upload and nothing else (403,
before anything is written). An upload may instead (or also) name `groups`: a script with a
JWT from an `[access.bearer]` issuer (verified by the access middleware) whose groups meet
them may write it. Whether a name is declared is said only to a caller with some
valid token; anyone else gets 401 for every name.

The body is streamed to a temporary file in the upload folder and stops at `max_bytes` (413,
nothing kept); a complete body is flushed to disk and renamed over the old file in one step, so
a run reading `upload:NAME` sees either the previous file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...config.model import UploadConfig
from ...errors import ConfigError
from ...sources import SecretRef
from ...uploads import SCHEME, upload_path
from ..access import Viewer, viewer_of
from ..errors import WebError
from ..render import json_ready

if TYPE_CHECKING:
    from ...config.site import Site
    from ..pages.routes import Dashboard


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries `token` as its bearer token (constant time).

    Kept apart and pure so that certificate-based access can be combined with it.
    """
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _secrets(site: Site, upload: UploadConfig) -> list[str]:
    """The token values of one upload; ConfigError when one cannot be read."""
    return [
        (SecretRef(file=site.resolve(ref.file)) if ref.file is not None else ref).resolve()
        for ref in upload.tokens
    ]


def _readable_secrets(site: Site, upload: UploadConfig) -> list[str]:
    try:
        return _secrets(site, upload)
    except ConfigError:
        return []


def _own_tokens(site: Site, name: str) -> list[str]:
    """The tokens that may write upload `name` (none for an undeclared name)."""
    if not site.uploads:
        raise WebError(
            "Uploads are not enabled on this site.",
            status=404,
            hint='Administrators: add an [[upload]] with name = "NAME" and '
            'token = { env = "VARIABLE" }.',
        )
    declared = site.upload(name)
    if declared is None:
        return []
    try:
        return _secrets(site, declared)
    except ConfigError as exc:
        raise WebError(
            f"Upload {name!r} is declared but its token cannot be read.", status=503, hint=str(exc)
        ) from None


def _refusal(site: Site, name: str, authorization: str | None, viewer: Viewer) -> Response | None:
    """None when the request carries a token of upload `name`; else the 403 or 401 answer."""
    if any(bearer_matches(authorization, token) for token in _own_tokens(site, name)):
        return None
    declared = site.upload(name)
    if viewer.by_bearer and declared is not None:
        if viewer.groups.intersection(declared.groups):
            return None
        return _forbidden(f"{viewer.name} is in no group that may write {name!r}.")
    others = (u for u in site.uploads if u.name != name)
    if any(bearer_matches(authorization, t) for u in others for t in _readable_secrets(site, u)):
        return _forbidden(
            f"This token belongs to another upload; it may not write {name!r}.",
            "Each [[upload]] has its own token: send the one declared for this name.",
        )
    return _unauthorised()


def _forbidden(message: str, hint: str = "") -> Response:
    error = WebError(message, status=403, title="Not allowed", hint=hint)
    return JSONResponse(json_ready(error.view()), status_code=403)


def _unauthorised() -> Response:
    error = WebError("This upload needs a valid bearer token.", status=401, title="Not allowed")
    return JSONResponse(
        json_ready(error.view()), status_code=401, headers={"WWW-Authenticate": "Bearer"}
    )


def _too_large(limit: int) -> WebError:
    return WebError(
        f"The upload is larger than the limit of {limit} bytes.",
        status=413,
        title="Too large",
        hint="Raise [site.upload] max_bytes, or send less.",
    )


async def upload(dash: Dashboard, request: Request) -> Response:
    """Store the request body as upload `name`, authenticated and size-capped."""
    site = dash.site
    settings = site.settings.upload
    folder = site.resolve(settings.dir)
    name = request.path_params["name"]
    try:
        target = upload_path(folder, name)
    except ValueError as exc:
        raise WebError(str(exc)) from None
    refusal = _refusal(site, name, request.headers.get("authorization"), viewer_of(request))
    if refusal is not None:
        return refusal
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_bytes:
        raise _too_large(settings.max_bytes)
    await run_in_threadpool(folder.mkdir, parents=True, exist_ok=True)
    size, digest = await _receive(request, target, settings.max_bytes)
    return JSONResponse(
        {"name": name, "bytes": size, "sha256": digest, "source": SCHEME + name}, status_code=201
    )


async def _receive(request: Request, target: Path, limit: int) -> tuple[int, str]:
    """Stream the body to a temporary file beside `target`, then put it in place atomically."""
    # a leading dot keeps the partial file out of the names an upload may have
    # closed by _commit on success, below on failure: it outlives one `with` block
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=".part-", delete=False)  # noqa: SIM115
    digest, size = hashlib.sha256(), 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            digest.update(chunk)
            handle.write(chunk)
        await run_in_threadpool(_commit, handle, target)
    except BaseException:
        handle.close()
        Path(handle.name).unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


def _commit(handle: IO[bytes], target: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(handle.name, target)
    # the rename itself must survive a crash too: flush the folder's entry
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
