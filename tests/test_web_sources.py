"""A source in trouble as a real `happyface serve` shows it: once, on every rendering."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.fixtures.changing import Answer, ChangingServer
from tests.fixtures.processes import free_port, happyface, wait_for
from tests.fixtures.site import write_site

SITE = """
[site]
title = "Sources"
database = "sqlite:///{db}"
fetch_timeout = 2

[site.web]
host = "127.0.0.1"
port = {port}

[[category]]
id = "batch"
title = "Batch"
{modules}
"""

MODULE = """
[[module]]
id = "jobs{i}"
title = "Jobs {i}"
type = "jobs"
category = "batch"
source = "{server}/squeue.json"
"""


def test_an_unreachable_shared_source_is_said_once_and_the_xml_keeps_its_errors(
    tmp_path: Path, changing_server: ChangingServer
) -> None:
    changing_server.answers["/squeue.json"] = Answer(b"down for maintenance", 503, "text/plain")
    port = free_port()
    server = changing_server.url("")
    modules = "".join(MODULE.format(i=i, server=server) for i in range(3))
    config = write_site(tmp_path, SITE.format(db=tmp_path / "hf.db", port=port, modules=modules))
    acquired = subprocess.run(
        [sys.executable, "-m", "happyface", "-c", str(config), "acquire"], capture_output=True
    )
    assert acquired.returncode == 3, acquired.stderr.decode()  # exit 3: a source unread
    key = f"127_0_0_1_{changing_server.port}_squeue_json"
    base = f"http://127.0.0.1:{port}"
    with happyface("-c", str(config), "serve", "--no-acquire") as process:
        overview = wait_for(base + "/", process).text
        assert re.search(
            rf"{key}</a> unreachable since\s*<time[^>]*>[^<]+</time> — 3 modules have no data",
            overview,
        )
        assert overview.count("is unreachable") == 3  # the troubled modules say why, in grey
        assert "s-error" not in overview

        listed = httpx.get(base + "/api/v1/sources").json()
        assert [s["key"] for s in listed] == [key]
        assert listed[0]["state"] == "unreachable"
        assert listed[0]["url"] == f"http://127.0.0.1:{changing_server.port}/…"
        assert listed[0]["no_data"] == ["jobs0", "jobs1", "jobs2"]
        assert "503" in listed[0]["message"]

        one = httpx.get(base + f"/api/v1/sources/{key}").json()
        assert [h["state"] for h in one["history"]] == ["unreachable"]
        missing = httpx.get(base + "/api/v1/sources/nope")
        assert missing.status_code == 404 and missing.json()["error"]["status"] == 404

        metrics = httpx.get(base + "/metrics").text
        assert f'happyface_source_quality{{source="{key}",state="unreachable"}} 1.0' in metrics
        assert f'happyface_source_quality{{source="{key}",state="fresh"}} 0.0' in metrics

        # old clients read the module's own status, as before: an unreachable source is -1
        xml = httpx.get(base + "/category?action=getxml").text
        assert xml.count("<status>-1.0</status>") == 4  # three modules and their category

        page = httpx.get(base + f"/source/{key}")
        assert page.status_code == 200
        assert "Modules reading it" in page.text and "/module/jobs1" in page.text
        module = httpx.get(base + "/module/jobs0").text
        assert f'href="/source/{key}"' in module
        assert httpx.get(base + "/source/nope").status_code == 404
