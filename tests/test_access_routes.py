"""Every route the app registers, walked as anonymous, as a shifter and as an admin: no leaks.

The walk reads the routes from the app itself, so a route added later is covered the day it
appears. Path parameters are filled with every real id (modules, categories, runs, metric and
archive names); routes without parameters are also asked for each curve (`m=`) and the XML
export (`action=getxml`).
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.fixtures.access import (
    ADMIN_DN,
    ALTERNATIVES,
    DATA,
    HIDDEN,
    USER_DN,
    WITHHELD_OPS,
    WITHHELD_QUEUE,
    AccessSite,
    proxy_headers,
)

PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
BINARY = ("image/png",)


def flat_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route, descending into included routers and mounts."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:  # FastAPI's include_router keeps the router whole
            sub = prefix + getattr(getattr(route, "include_context", None), "prefix", "")
            yield from flat_routes(included.routes, sub)
        elif getattr(route, "methods", None):
            yield prefix + route.path, set(route.methods)
        elif hasattr(route, "routes") and route.routes:
            yield from flat_routes(route.routes, prefix + getattr(route, "path", ""))


def candidates(name: str, convertor: str | None, site: AccessSite) -> list[str]:
    modules = [m for m in DATA]
    categories = ["batch", "vault", "ops"]
    metrics = [d[2] for d in DATA.values()]
    if convertor == "int" or name in ("run", "run_id"):
        return [str(i) for i in site.ids]
    if "metric" in name:
        return [*metrics, "status"]
    if name in ("name", "file", "filename"):
        return ["main", *metrics]
    return [*modules, *categories]


def queries() -> list[str]:
    curves = [f"m={m}:{d[2]}" for m, d in DATA.items()] + [f"m={m}:status" for m in DATA]
    return ["", "action=getxml", *curves, "module=secretjobs", "category=vault", "id=queue"]


def urls(app: Any, site: AccessSite, method: str) -> Iterator[str]:
    for path, methods in sorted(set((p, frozenset(m)) for p, m in flat_routes(app.routes))):
        if method not in methods or path.startswith("/static"):
            continue
        params = PARAM.findall(path)
        if not params:
            for query in queries():
                yield path + ("?" + query if query else "")
            continue
        choices = [candidates(n, c, site) for n, c in params]
        for values in itertools.product(*choices):
            url = path
            for (name, conv), value in zip(params, values, strict=True):
                pattern = "{" + name + "(?::" + (conv or r"\w+") + ")?}"
                url = re.sub(pattern, quote(value), url, count=1)
            yield url


async def walk(app: Any, method: str, headers: dict[str, str]) -> list[tuple[str, httpx.Response]]:
    transport = httpx.ASGITransport(app=app)
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for url in urls(app, walk.site, method):  # type: ignore[attr-defined]
            answers.append((url, await client.request(method, url, headers=headers)))
    return answers


def leaks(url: str, answer: httpx.Response, secrets: list[str]) -> list[str]:
    """The secrets found in an answer; an id the URL itself names is no leak."""
    if answer.headers.get("content-type", "").startswith(BINARY):
        return _binary_leaks(url, answer, secrets)
    text = answer.text
    for part in re.split(r"[/?&=:]", url):  # the server may echo what was asked
        text = text.replace(part, "") if part and part not in ("", "status") else text
    return [s for s in secrets if s.lower() in text.lower()]


def _binary_leaks(url: str, answer: httpx.Response, secrets: list[str]) -> list[str]:
    """An image cannot be searched: a curve of something secret must not be drawn at all."""
    if answer.status_code != 200:
        return []
    asked = re.findall(r"m=(\w+):(\w+)", url)
    return [f"{m}:{k}" for m, k in asked if any(s in (m, k) for s in secrets) and k != "status"]


def run_walk(app: Any, site: AccessSite, method: str, headers: dict[str, str]) -> Any:
    walk.site = site  # type: ignore[attr-defined]
    return asyncio.run(walk(app, method, headers))


@pytest.fixture(scope="module")
def app(access_site: AccessSite) -> Any:
    return access_site.app()


VIEWERS = {
    "anonymous": ({}, HIDDEN + WITHHELD_QUEUE + WITHHELD_OPS),
    "shifter": (proxy_headers(USER_DN), HIDDEN + WITHHELD_OPS),
}


@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_no_route_leaks_to_viewers_without_rights(
    app: Any, access_site: AccessSite, viewer: str
) -> None:
    headers, secrets = VIEWERS[viewer]
    answers = run_walk(app, access_site, "GET", headers)
    assert len(answers) > 100
    found = [(url, leaks(url, a, secrets)) for url, a in answers]
    assert [f for f in found if f[1]] == []
    assert not [u for u, a in answers if a.status_code >= 500], "a route crashed"


def test_forbidden_post_routes_leak_nothing(app: Any, access_site: AccessSite) -> None:
    answers = run_walk(app, access_site, "POST", {})
    secrets = HIDDEN + WITHHELD_QUEUE + WITHHELD_OPS
    assert [(u, leaks(u, a, secrets)) for u, a in answers if leaks(u, a, secrets)] == []
    assert all(a.status_code >= 400 for _, a in answers)


def test_the_admin_sees_every_secret_somewhere(app: Any, access_site: AccessSite) -> None:
    """The walk reaches the secrets: the anonymous walk proves something."""
    answers = run_walk(app, access_site, "GET", proxy_headers(ADMIN_DN))
    text = "\n".join(
        a.text for _, a in answers if not a.headers.get("content-type", "").startswith(BINARY)
    )
    wanted = [s for s in HIDDEN + WITHHELD_QUEUE + WITHHELD_OPS if s not in ALTERNATIVES]
    missing = [s for s in wanted if s.lower() not in text.lower()]
    assert missing == []


def test_routes_walked_include_exports_and_archive(app: Any, access_site: AccessSite) -> None:
    paths = {p for p, _ in flat_routes(app.routes)}
    assert {"/", "/module/{ident}", "/plot.png", "/archive/{run:int}/{module}/{name}"} <= paths
    walk.site = access_site  # type: ignore[attr-defined]
    asked = list(urls(app, access_site, "GET"))
    assert any(u.startswith("/archive/") and "secretjobs" in u for u in asked)
