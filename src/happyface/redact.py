"""Redaction: URLs and secrets made safe to show in a message, a log line or a page.

A notification channel's URL often carries its credentials: a user and password, a token in
the query, the whole path (Mattermost and Slack hooks) and, for many Apprise services, even the
"host" (`tgram://BOT_TOKEN/CHAT`). Every text that may name such a URL goes through `redact`
before it is logged or stored, so what is shown of a URL is at most its scheme and, for a web
address, its host and port.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

MASK = "…"
# shorter pieces (a path segment such as "api") are too common to blot out of every message
SHORTEST_SECRET = 6
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,30}://[^\s<>\"'`]*")
_WEB = ("http", "https")


def redact_url(url: str) -> str:
    """What may be shown of a URL: `https://host:port/…` for a web address, else `scheme://…`.

    Userinfo, path, query and fragment are dropped; for other schemes (Apprise's) the host is
    dropped too, since there it is often the token itself.
    """
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:  # an unparsable port or bracket: show nothing of it
        return MASK
    if not scheme:
        return MASK
    if scheme not in _WEB or not host:
        return f"{scheme}://{MASK}"
    shown = f"[{host}]" if ":" in host else host
    if port is not None:
        shown += f":{port}"
    rest = parts.path not in ("", "/") or parts.query or parts.fragment
    return f"{scheme}://{shown}/{MASK if rest else ''}"


def url_secrets(url: str) -> list[str]:
    """The pieces of a URL that may be credentials, to blot out of texts that quote them."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return [url]
    pieces = [url, parts.netloc, parts.path, parts.query, parts.fragment]
    pieces += [parts.username or "", parts.password or ""]
    pieces += parts.path.split("/")
    pieces += [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    if parts.scheme.lower() not in _WEB:
        pieces.append(host)
    return [p for p in pieces if p]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret replaced by `…` and every URL reduced by `redact_url`.

    Secrets are matched as written and percent-encoded, longest first, so that a receiver's
    error page quoting the URL it was called with shows none of its credentials.
    """
    variants = {v for s in secrets for v in (s, quote(s, safe=""), unquote(s))}
    for secret in sorted((v for v in variants if len(v) >= SHORTEST_SECRET), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _URL.sub(lambda match: redact_url(match.group(0)), text)
