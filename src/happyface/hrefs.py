"""Which URLs from sources and results the dashboard turns into links a browser follows.

A URL may come from a remote feed or instance, so it is checked as a browser would read it:
browsers drop tabs and newlines anywhere in a URL, strip control characters and spaces at its
ends, treat `\\` as `/` and decode character references in an attribute before using it. Rather
than imitate each rule, a URL with any of those characters is not followed at all; what is left
is followed only when it is plainly an `http(s)://host` address or a path on this site.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

# ASCII controls, space and backslash: browsers drop, strip or reinterpret each of them
_REINTERPRETED = re.compile(r"[\x00-\x20\x7f\\]")
_WEB = re.compile(r"https?://", re.IGNORECASE)
# a path whose first segment a server might decode into `/` or `\`, making it `//host`
_ENCODED_SLASH = re.compile(r"/%(?:2f|5c)", re.IGNORECASE)


#: the schemes of links in HTML that the dashboard shows from feeds (sanitised by nh3 with them)
FEED_LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def safe_href(url: str, *, here: bool = True) -> str:
    """The URL (ends stripped) if a browser may follow it, else "".

    Followed: http and https addresses, and, with `here`, paths on this site. A link a remote
    document gives as its own (a feed's, an instance's) is asked for with `here=False`: a bare
    path in it would point into HappyFace, not to the remote site.
    """
    candidate = url.strip()
    if _followable(candidate, here) and _followable(html.unescape(candidate), here):
        return candidate
    return ""


def _followable(url: str, here: bool) -> bool:
    if not url or _REINTERPRETED.search(url):
        return False
    if _WEB.match(url):
        return bool(urlsplit(url).hostname)
    if not here:
        return False
    return url.startswith("/") and not url.startswith("//") and not _ENCODED_SLASH.match(url)
