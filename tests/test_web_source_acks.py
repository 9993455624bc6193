"""Acknowledging a source from its page: the form, who may, and who sees the source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from happyface.alarms import Subject, active_acknowledgements
from tests.fixtures.access import (
    ADMIN_DN,
    CONFIG,
    RUNS,
    USER_DN,
    AccessSite,
    populate_access,
    proxy_headers,
)
from tests.fixtures.browser import Browser
from tests.fixtures.web import BASE, INTERVAL

#: the clock of the access site's app
NOW = BASE + INTERVAL * RUNS

SHIFTER = proxy_headers(USER_DN)
ADMIN = proxy_headers(ADMIN_DN)
OUTSIDER = proxy_headers("/C=DE/O=GermanGrid/OU=KIT/CN=Nick Nobody")

# shifters may acknowledge; "jobs_source" is stale and read by a module everyone sees,
# "secretjobs_source" only by a hidden module, "shared_source" is fresh
ACK_CONFIG = (
    CONFIG
    + f"""
[access.groups.shifters]
dns = ["{USER_DN}", "/C=DE/O=GermanGrid/OU=KIT/CN=Olga Other"]

[site.web]
acknowledge_groups = ["shifters", "admins"]
"""
)


@pytest.fixture
def access_site(tmp_path: Path) -> Iterator[AccessSite]:
    populated = populate_access(tmp_path, ACK_CONFIG)
    yield populated
    populated.store.close()


def source_ack(
    key: str, comment: str = "asked the batch team to restart the collector"
) -> dict[str, str]:
    return {
        "kind": "source",
        "id": key,
        "comment": comment,
        "expires": "4h",
        "back": f"/source/{key}",
    }


def test_a_shifter_acknowledges_a_source_on_its_page(access_site: AccessSite) -> None:
    app = access_site.app()
    shifter = Browser(app, SHIFTER)
    page = shifter.get("/source/jobs_source").text
    assert "Acknowledge this problem" in page
    assert f'name="csrf_token" value="{shifter.token()}"' in page
    assert 'name="kind" value="source"' in page
    answer = shifter.post("/alarms/acknowledge", source_ack("jobs_source"))
    assert answer.status_code == 303 and answer.headers["location"] == "/source/jobs_source"
    (ack,) = active_acknowledgements(access_site.store, NOW)
    assert ack.subject == Subject("source", "jobs_source") and ack.user == USER_DN
    # the next shift, and an anonymous viewer (by common name), see it on the source page
    other = Browser(app, proxy_headers("/C=DE/O=GermanGrid/OU=KIT/CN=Olga Other")).get(
        "/source/jobs_source"
    )
    assert "Acknowledged" in other.text and "restart the collector" in other.text
    anonymous = Browser(app).get("/source/jobs_source").text
    assert "Sam Shifter" in anonymous and USER_DN not in anonymous
    assert "Acknowledge this problem" not in anonymous
    assert Browser(app).get("/source/jobs_source.json").json()["alarm"]["acknowledged"] is True
    # its author withdraws it from the same page
    withdraw = f"/alarms/acknowledge/{ack.id}/withdraw"
    assert withdraw in shifter.get("/source/jobs_source").text
    assert shifter.post(withdraw, {"back": "/source/jobs_source"}).status_code == 303
    assert active_acknowledgements(access_site.store, NOW) == []


def test_a_fresh_source_offers_no_form(access_site: AccessSite) -> None:
    page = Browser(access_site.app(), SHIFTER).get("/source/shared_source").text
    assert "Acknowledge this problem" not in page


@pytest.mark.parametrize("with_token", [False, True])
def test_source_acknowledgements_need_the_token_and_the_group(
    access_site: AccessSite, with_token: bool
) -> None:
    app = access_site.app()
    for who in ({}, OUTSIDER):
        answer = Browser(app, who).post(
            "/alarms/acknowledge", source_ack("jobs_source"), token=with_token
        )
        assert answer.status_code == 403
    answer = Browser(app, SHIFTER).post(
        "/alarms/acknowledge", source_ack("jobs_source"), token=with_token
    )
    assert answer.status_code == (303 if with_token else 403)
    assert len(active_acknowledgements(access_site.store, NOW)) == int(with_token)


@pytest.mark.parametrize("key", ["no_such_source", "secretjobs_source", ""])
def test_unknown_and_unseen_sources_are_404(access_site: AccessSite, key: str) -> None:
    answer = Browser(access_site.app(), SHIFTER).post("/alarms/acknowledge", source_ack(key))
    assert answer.status_code == 404 and "Traceback" not in answer.text
    assert active_acknowledgements(access_site.store, NOW) == []


def test_an_admin_who_sees_the_source_may_acknowledge_it(access_site: AccessSite) -> None:
    answer = Browser(access_site.app(), ADMIN).post(
        "/alarms/acknowledge", source_ack("secretjobs_source")
    )
    assert answer.status_code == 303
    (ack,) = active_acknowledgements(access_site.store, NOW)
    assert ack.subject == Subject("source", "secretjobs_source")
    # a shifter does not see that source: its page, and so its acknowledgement, stays hidden
    assert Browser(access_site.app(), SHIFTER).get("/source/secretjobs_source").status_code == 404
