"""Access control of one site: identify the viewer, and scope the site and store for them."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...config.site import Site
from .groups import Groups, Identity
from .identity import HeaderSource, from_tls_scope
from .policy import Policy, Viewer
from .scope import ScopedStore, scoped_site
from .snapshots import Snapshots
from .tokenauth import TokenAccess
from .versions import StoredAccess

if TYPE_CHECKING:
    from ...storage import Store

# distinct group sets are few (anonymous, each role); the bound only guards against surprises
MAX_SCOPES = 64


class AccessControl:
    """Resolves viewers from requests and hands out the site and store as they may see them."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.headers = HeaderSource(site.access)
        self.groups = Groups(site.access, site.root)
        self.tokens = TokenAccess(site)
        self.stored = StoredAccess()
        self.snapshots = Snapshots()
        self._scopes: dict[frozenset[str], tuple[Policy, Site]] = {}
        self._lock = threading.Lock()

    def identify(self, scope: Mapping[str, Any]) -> Identity | None:
        """The identity of an ASGI request: a trusted proxy's headers, else our own TLS peer."""
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        from_proxy = self.headers.identity(scope.get("client"), headers)
        return from_proxy if from_proxy is not None else from_tls_scope(scope)

    def personal(self, scope: Mapping[str, Any]) -> bool:
        """Whether a request may belong to someone: a certificate, a bearer JWT or a session."""
        return self.identify(scope) is not None or self.tokens.presented(scope)

    def policy(self, viewer: Viewer) -> Policy:
        return self._scoped(viewer)[0]

    def site_for(self, viewer: Viewer) -> Site:
        """The site with hidden items left out and restricted ones reduced, for this viewer."""
        return self._scoped(viewer)[1]

    def store_for(self, store: Store, viewer: Viewer) -> ScopedStore:
        """The reads of the store the web may make, as this viewer may see them."""
        return ScopedStore(store, self.policy(viewer), self.stored, self.snapshots)

    def _scoped(self, viewer: Viewer) -> tuple[Policy, Site]:
        with self._lock:
            found = self._scopes.get(viewer.key)
        if found is not None:
            return found
        policy = Policy(self.site, viewer.key)
        made = (policy, scoped_site(self.site, policy))
        with self._lock:
            if len(self._scopes) >= MAX_SCOPES:
                self._scopes.clear()
            self._scopes[viewer.key] = made
        return made
