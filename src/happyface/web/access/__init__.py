"""Access control by X.509 certificate or token: who the viewer is, and what they may see.

`AccessMiddleware` identifies the viewer of every request (a trusted reverse proxy's DN
headers, the client certificate of our own TLS, a bearer JWT of a configured issuer, or an
OpenID Connect login session: `tokenauth`); `AccessControl` scopes the site and the
store to that viewer (a `ScopedStore` has only the reads the web needs, each filtered), so
the view functions need no checks of their own; `deps` has the dependencies of
state-changing routes (groups, CSRF).
"""

from .control import AccessControl
from .middleware import AccessMiddleware, csrf_token_of, viewer_of
from .policy import ANONYMOUS, WITHHELD, Sight, Viewer
from .scope import ScopedStore

__all__ = [
    "ANONYMOUS",
    "WITHHELD",
    "AccessControl",
    "AccessMiddleware",
    "ScopedStore",
    "Sight",
    "Viewer",
    "csrf_token_of",
    "viewer_of",
]
