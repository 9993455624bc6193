"""The "Log in" / "Log out" link of the navigation, filled in per request.

Pages are cached per group set, shared by every viewer with the same groups, so the template
only holds a mark; each answer replaces it for the browser that asked: "Log in" for an
anonymous viewer where something is restricted, "Log out" for one logged in by OpenID Connect,
nothing otherwise (a certificate or a script needs neither).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
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
    if ACCOUNT_MARK.encode() not in item.body:
        return item
    return _filled(item, account_link(request, control, prefix))


# Most requests of a page get the same link (none, or the same "Log in"): made once, with its
# entity tag and gzip body, instead of at every answer on the event loop (a new Rendered makes
# both: about 0.4 ms for a 20 KB page). The link is part of the key, so no viewer gets another's.
@lru_cache(maxsize=16)  # a few pages at once; bounded, as pages of large sites are large
def _filled(item: Rendered, link: str) -> Rendered:
    return replace(item, body=item.body.replace(ACCOUNT_MARK.encode(), link.encode()))
