"""The classic XML export (`/category?action=getxml`): the overview's data for old clients.

Child elements only, no attributes, statuses as the old floats (`Status.score`), exactly the
elements HappyFace 3 wrote, so status-bar plugins, phone apps and other HappyFace instances
keep reading it. Titles may contain anything: characters XML 1.0 cannot carry are dropped and
the rest escaped, so the document is always well-formed.

Stale data: old clients know no "stale". When the newest run is older than `stale_after`, the
live export reports every status as no information (-2) and says why in an XML comment, while
`<time>` keeps the real time of the data: an old client then shows "no info" instead of a green
face for a site nobody has looked at for hours. An export for a past time (`date`/`time`/`at`)
is never stale: it shows what was known then.

Database outage: the export answers 503 with the configured categories and modules, every
status an error (-1), and an XML comment saying why (`outage_xml`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from ...config.site import Site
from ...status import Status
from ..cache import Rendered
from ..pages.page_data import CategoryCard
from ..pages.run_at import At
from ..pages.views import overview_view, snapshot_of
from ..urls import Urls, absolute
from .classic_status import classic_category, own_statuses

MEDIA_TYPE = "text/xml; charset=utf-8"
# XML 1.0 allows tab, newline, carriage return and the ranges below; everything else goes.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def xml_text(value: object) -> str:
    """Text safe inside an XML element: unusable characters dropped, markup escaped."""
    return _NOT_XML.sub("", str(value)).translate(_ESCAPES)


def score_text(status: Status) -> str:
    """The float as HappyFace 3 printed it: 1.0, 0.5, 0.0, -1.0, -2.0."""
    return repr(status.score)


def old_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def category_type(kinds: list[str]) -> str:
    """`plots` for a category of plot modules only (by their kinds), else `rated`."""
    if kinds and all(kind == "plots" for kind in kinds):
        return "plots"
    return "rated"


def render_xml(at: At) -> Rendered:
    """The site at the resolved run as the classic XML document."""
    view = overview_view(at.ctx, at.moment)
    own = own_statuses(at.ctx, at.moment.run.id)  # a greyed module keeps its own status here
    snapshot = snapshot_of(at.ctx, at.moment.run.id)
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<happyface>"]
    if at.stale:
        age = (at.ctx.now - at.moment.latest.started_at).total_seconds()
        allowed = at.ctx.site.settings.stale_after
        lines.append(
            f" <!-- stale: the newest run is {age:.0f} s old, more than the {allowed:g} s"
            " allowed; statuses are reported as no information (-2) -->"
        )
    lines.append(_element(1, "title", view.site.title))
    for category in view.categories:
        lines.extend(_category(at, category, own, snapshot))
    lines.append("</happyface>")
    return Rendered(("\n".join(lines) + "\n").encode("utf-8"), MEDIA_TYPE)


def _element(depth: int, name: str, text: object) -> str:
    return f"{' ' * depth}<{name}>{xml_text(text)}</{name}>"


def _status(at: At, value: str) -> Status:
    return Status.NOINFO if at.stale else Status(value)


def _category(
    at: At, category: CategoryCard, own: Mapping[str, Status], snapshot: Mapping[str, Any]
) -> Iterator[str]:
    run_time = at.moment.run.started_at
    link = at.absolute(at.ctx.urls.category(category.id, run_time))
    yield " <category>"
    yield _element(2, "name", category.id)
    yield _element(2, "title", category.title)
    classic = classic_category(category, own, snapshot)
    yield _element(2, "status", score_text(_status(at, classic.value)))
    yield _element(2, "type", category_type([m.kind for m in category.modules]))
    yield _element(2, "link", link)
    for module in category.modules:
        yield "  <module>"
        yield _element(3, "name", module.id)
        yield _element(3, "title", module.title)
        yield _element(3, "type", module.kind)
        status = own.get(module.id, Status(module.status.value))
        yield _element(3, "status", score_text(_status(at, status.value)))
        yield _element(3, "time", old_time(run_time))
        yield _element(
            3,
            "link",
            at.absolute(at.ctx.urls.category(category.id, run_time, anchor=module.id)),
        )
        yield "  </module>"
    yield " </category>"


def no_run_xml(title: str) -> Rendered:
    """The export of a site whose first run has not landed: its title and no categories."""
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<happyface>", _element(1, "title", title)]
    body = "\n".join([*lines, "</happyface>", ""])
    return Rendered(body.encode("utf-8"), MEDIA_TYPE, headers=(("Cache-Control", "no-cache"),))


def outage_xml(site: Site, urls: Urls, origin: str, now: datetime) -> Rendered:
    """The export while the database cannot be read: every status an error (-1), and why.

    Categories and modules come from the configuration, so an old client still finds each one
    it knows and shows it as failing rather than missing.
    """
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        "<happyface>",
        " <!-- the database is not answering: every status is reported as an error (-1) -->",
        _element(1, "title", site.settings.title),
    ]
    error = score_text(Status.ERROR)
    for category in site.categories:
        modules = site.modules_of(category.id)
        lines += [
            " <category>",
            _element(2, "name", category.id),
            _element(2, "title", category.title),
            _element(2, "status", error),
            _element(2, "type", category_type([m.config.kind.value for m in modules])),
            _element(2, "link", absolute(origin, urls.category(category.id))),
        ]
        for module in modules:
            link = urls.category(category.id, anchor=module.id)
            lines += [
                "  <module>",
                _element(3, "name", module.id),
                _element(3, "title", module.config.title),
                _element(3, "type", module.config.kind.value),
                _element(3, "status", error),
                _element(3, "time", old_time(now)),
                _element(3, "link", absolute(origin, link)),
                "  </module>",
            ]
        lines.append(" </category>")
    lines.append("</happyface>")
    body = ("\n".join(lines) + "\n").encode("utf-8")
    return Rendered(body, MEDIA_TYPE, status=503, headers=(("Cache-Control", "no-store"),))
