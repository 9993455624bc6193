"""`POST /upload/NAME`: a file pushed to HappyFace, for data it cannot fetch itself.

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

from ..errors import ConfigError
from ..sources import SecretRef
from ..uploads import SCHEME, upload_path
from .errors import WebError

if TYPE_CHECKING:
    from ..site import Site
    from .handlers import Dashboard


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header carries `token` as its bearer token (constant time).

    Kept apart and pure so that certificate-based access can be combined with it.
    """
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _token(site: Site) -> str:
    ref = site.settings.upload.token
    if ref is None:
        raise WebError(
            "Uploads are not enabled on this site.",
            status=404,
            hint='Administrators: add [site.upload] with token = { env = "NAME" }.',
        )
    if ref.file is not None:
        ref = SecretRef(file=site.resolve(ref.file))
    try:
        return ref.resolve()
    except ConfigError as exc:
        raise WebError(
            "Uploads are switched on but their token cannot be read.", status=503, hint=str(exc)
        ) from None


def _unauthorised() -> Response:
    error = WebError("This upload needs a valid bearer token.", status=401, title="Not allowed")
    return JSONResponse(error.view(), status_code=401, headers={"WWW-Authenticate": "Bearer"})


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
    if not bearer_matches(request.headers.get("authorization"), _token(site)):
        return _unauthorised()
    settings = site.settings.upload
    folder = site.resolve(settings.dir)
    name = request.path_params["name"]
    try:
        target = upload_path(folder, name)
    except ValueError as exc:
        raise WebError(str(exc)) from None
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
