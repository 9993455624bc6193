"""The "Log in" / "Log out" link of the navigation, filled in per request.

Pages are cached per group set, shared by every viewer with the same groups, so the template
only holds a mark; each answer replaces it for the browser that asked: "Log in" for an
anonymous viewer where something is restricted, "Log out" for one logged in by OpenID Connect,
nothing otherwise (a certificate or a script needs neither).
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

from markupsafe import Markup, escape
from starlette.requests import Request

from ..cache import Rendered
from .claims import TokenIdentity
from .control import AccessControl
from .middleware import csrf_token_of, viewer_of
from .policy import ANONYMOUS

#: stands for the account link in cached pages
ACCOUNT_MARK = Markup("<!--hf-account-->")


def account_link(request: Request, control: AccessControl, prefix: str) -> str:
    """The HTML of the account link for this request's viewer ("" when none applies)."""
    if control.tokens.login is None:
        return ""
    viewer = viewer_of(request)
    if viewer.identity is None:
        if control.policy(ANONYMOUS).unrestricted:
            return ""
        back = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return f'<a class="account" href="{prefix}/login?back={escape(back)}">Log in</a>'
    who = viewer.identity
    if isinstance(who, TokenIdentity) and who.via == "session":
        token = escape(csrf_token_of(request))
        return (
            f'<form class="account" method="post" action="{prefix}/logout">'
            f'<span title="{escape(who.issuer)}">{escape(who.display or who.subject)}</span> '
            f'<input type="hidden" name="csrf_token" value="{token}">'
            '<button type="submit">Log out</button></form>'
        )
    return ""


def with_account(item: Rendered, request: Request, control: AccessControl, prefix: str) -> Rendered:
    """The answer with the account link of this request's viewer in place of the mark."""
    mark = ACCOUNT_MARK.encode()
    if mark not in item.body:
        return item
    link = account_link(request, control, prefix).encode()
    return replace(item, body=item.body.replace(mark, link))
