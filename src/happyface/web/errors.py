"""Friendly error pages: a bad parameter or an unknown id is explained, never a traceback."""

from __future__ import annotations

import logging

from ..errors import HappyFaceError
from .viewdata import ErrorBody, ErrorView, Link

log = logging.getLogger(__name__)


class WebError(HappyFaceError):
    """Raised when a request cannot be answered as asked: shown as a friendly 4xx page."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        title: str = "",
        hint: str = "",
        links: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.title = title or _TITLES.get(status, "Cannot show this page")
        self.hint = hint
        self.links = links

    def view(self) -> ErrorView:
        """The error as view data, for the HTML page and the JSON answer alike."""
        links = [Link(title=t, url=u) for t, u in self.links]
        return ErrorView(ErrorBody(self.status, self.title, self.message, self.hint, links))


_TITLES = {
    400: "This address has a mistake",
    404: "Nothing here",
    405: "Not allowed here",
    503: "The database is not answering",
}


def bad_parameter(name: str, value: str, expected: str) -> WebError:
    """A WebError for one query parameter that cannot be understood."""
    shown = value if len(value) <= 80 else value[:77] + "..."
    return WebError(f"The parameter {name}={shown!r} cannot be understood: expected {expected}.")


def not_found(what: str, ident: str, known: list[str] | None = None) -> WebError:
    """A 404 WebError for an unknown category, module, metric or file."""
    hint = ""
    if known:
        listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
        hint = f"Known: {listed}."
    return WebError(f"There is no {what} {ident!r}.", status=404, hint=hint)


def storage_unavailable() -> WebError:
    """The 503 shown when the database fails; the details go to the log, not the page."""
    return WebError(
        "The dashboard cannot read its database right now. The page will work again when "
        "the database is back; try again in a minute.",
        status=503,
        hint="Administrators: the server log has the details.",
    )


def internal_error() -> WebError:
    """The 500 shown for a bug; the traceback goes to the log only."""
    return WebError(
        "Something went wrong while building this page. This is a bug in HappyFace; the "
        "server log has the details.",
        status=500,
        title="This page failed",
    )
