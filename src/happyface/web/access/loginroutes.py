"""The routes of browser login (`/login`, `/login/callback`, `/logout`), when OIDC is set up."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from .control import AccessControl
from .deps import require_csrf


def add_login_routes(app: Starlette, control: AccessControl) -> None:
    """Register the login endpoints on `app`; nothing when `[access.oidc]` is not configured."""
    login = control.tokens.login
    if login is None:
        return

    async def logout(request: Request) -> Response:
        await require_csrf(request)  # a cookie session: another site must not end it
        return await login.logout(request)

    app.add_route("/login", login.login, methods=["GET"], include_in_schema=False)
    app.add_route("/login/callback", login.callback, methods=["GET"], include_in_schema=False)
    app.add_route("/logout", logout, methods=["POST"], include_in_schema=False)
