"""Answers while the database is out, for the exports that have a format of their own.

Pages answer the friendly 503 page and the JSON API a JSON error (see app.py); the classic
XML export and /metrics answer in their own formats, so the programs reading them can tell
an outage from a broken HappyFace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from .access import viewer_of
from .cache import to_response
from .exports.metrics import MEDIA_TYPE, exposition, process_families
from .exports.xml import outage_xml
from .pages.run_at import origin_of

if TYPE_CHECKING:
    from .pages.routes import Dashboard


def outage_answer(dash: Dashboard, request: Request) -> Response | None:
    """The 503 of an export that has a format of its own, or None for the usual error page."""
    path = request.url.path
    if path == "/status.xml" or (
        path == "/category" and request.query_params.get("action") == "getxml"
    ):
        site = dash.access.site_for(viewer_of(request))
        return to_response(outage_xml(site, dash.urls, origin_of(dash, request), dash.now()))
    if path == "/metrics":
        body = exposition(process_families(dash, up=False))
        return Response(
            body, status_code=503, media_type=MEDIA_TYPE, headers={"Cache-Control": "no-store"}
        )
    return None
