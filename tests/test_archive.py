"""The archive of raw inputs: one zip per run, written safely, read safely, cleaned whole."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from happyface import FetchError, RawInput, Result, Status
from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.maintenance import Maintenance
from happyface.acquisition.run import Runner
from happyface.archive.run_file import open_feed, publish
from happyface.archive.runs import Archive, ArchiveError, RunWriter
from happyface.config.load import load_site
from happyface.config.settings import SiteSettings
from happyface.errors import RunFailedError
from happyface.plugins import Registry
from happyface.storage import ModuleRecord, open_store
from tests.fixtures.details import DetailSite
from tests.fixtures.modules import data
from tests.fixtures.site import write_site

RUN = datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)
RUN_FILE = "2024/05/01/123005.zip"


def raw(content: bytes, content_type: str = "application/json") -> RawInput:
    return RawInput(
        url="https://batch.example.org/jobs",
        content=content,
        fetched_at=RUN,
        content_type=content_type,
        elapsed=0.25,
    )


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "archive")


def files_below(folder: Path) -> list[str]:
    """Every file below `folder` (hidden ones too), relative and sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


def test_layout_bodies_and_meta(archive: Archive) -> None:
    inputs = {
        "main": raw(b'{"jobs": 3}'),
        "pools": raw(b"<pools/>", "text/xml; charset=utf-8"),
        "news": FetchError("HTTP 503 Service Unavailable from https://news.example.org/"),
    }
    relpath = archive.store(RUN, "batch_jobs", inputs)
    assert relpath == "2024/05/01/123005/batch_jobs"
    assert files_below(archive.root) == [RUN_FILE]  # one file for the run, nothing else
    with zipfile.ZipFile(archive.root / RUN_FILE) as run:  # readable with any zip tool
        assert run.read("batch_jobs/pools.xml") == b"<pools/>"
    assert archive.list(relpath) == ["main.json", "meta.json", "pools.xml"]
    assert archive.open(relpath, "pools.xml") == b"<pools/>"
    meta = json.loads(archive.open(relpath, "meta.json"))
    assert meta["module"] == "batch_jobs"
    assert meta["run_started"] == "2024-05-01T12:30:05+00:00"
    assert meta["inputs"]["main"] == {
        "url": "https://batch.example.org/jobs",
        "status_code": 200,
        "content_type": "application/json",
        "fetched_at": "2024-05-01T12:30:05+00:00",
        "size": 11,
        "elapsed": 0.25,
        "error": None,
        "file": "main.json",
    }
    assert meta["inputs"]["news"] == {"error": inputs["news"].args[0]}


def test_a_module_whose_fetches_all_failed_keeps_its_meta(archive: Archive) -> None:
    relpath = archive.store(RUN, "down", {"main": FetchError("HTTP 503 from the source")})
    assert archive.list(relpath) == ["meta.json"]
    meta = json.loads(archive.open(relpath, "meta.json"))
    assert meta["inputs"] == {"main": {"error": "HTTP 503 from the source"}}


def test_run_time_is_kept_in_utc(archive: Archive) -> None:
    berlin = RUN.astimezone(timezone(timedelta(hours=2)))
    assert archive.store(berlin, "m", {"main": raw(b"x")}) == "2024/05/01/123005/m"
    assert (archive.root / RUN_FILE).is_file()


def test_awkward_input_names_become_safe_distinct_files(archive: Archive) -> None:
    inputs = {"../etc/passwd": raw(b"a", ""), "meta": raw(b"b"), "a b": raw(b"c", "text/plain")}
    relpath = archive.store(RUN, "m", inputs)
    assert archive.list(relpath) == ["_etc_passwd.bin", "a_b.txt", "meta-2.json", "meta.json"]
    assert archive.open(relpath, "meta-2.json") == b"b"


def test_storing_a_module_again_replaces_it_and_keeps_the_others(archive: Archive) -> None:
    archive.store(RUN, "m", {"old": raw(b"1")})
    other = archive.store(RUN, "n", {"main": raw(b"n")})
    relpath = archive.store(RUN, "m", {"new": raw(b"2")})
    assert archive.list(relpath) == ["meta.json", "new.json"]
    assert archive.open(relpath, "new.json") == b"2"
    assert archive.open(other, "main.json") == b"n"
    assert files_below(archive.root) == [RUN_FILE]


def test_a_body_shared_by_modules_is_kept_once(archive: Archive) -> None:
    writer = archive.writer(RUN)
    shared = raw(b"<jobs>" + b"<job/>" * 1000 + b"</jobs>", "text/xml")
    paths = [writer.add(m, {"main": shared}) for m in ("a", "b", "c")]
    writer.publish()
    assert [archive.open(p, "main.xml") for p in paths] == [shared.content] * 3
    with zipfile.ZipFile(archive.root / RUN_FILE) as run:
        assert sorted(run.namelist()) == [".index.json", "a/main.xml"]


def test_replacing_a_module_keeps_the_body_another_module_shares_with_it(
    archive: Archive,
) -> None:
    writer = archive.writer(RUN)
    shared = raw(b"shared")
    writer.add("a", {"main": shared})
    b = writer.add("b", {"main": shared})  # kept once, under a's name
    writer.publish()
    a = archive.store(RUN, "a", {"main": raw(b"new")})
    assert archive.open(a, "main.json") == b"new"
    assert archive.open(b, "main.json") == b"shared"


def test_concurrent_appends_all_arrive_whole(archive: Archive) -> None:
    """Modules finish at once in worker threads; every one's inputs end up in the run file."""
    writer = archive.writer(RUN)
    # bodies big enough that compressing one lets other threads run meanwhile
    bodies = [b"".join(b"%d:%d " % (i, n * n % 9973) for n in range(20_000)) for i in range(64)]

    def add(i: int) -> str:
        return writer.add(f"m{i}", {"main": raw(bodies[i])})

    with ThreadPoolExecutor(16) as pool:
        paths = list(pool.map(add, range(64)))
    writer.publish()
    assert [archive.open(path, "main.json") for path in paths] == bodies
    with zipfile.ZipFile(archive.root / RUN_FILE) as run:
        assert run.testzip() is None
        assert len(run.namelist()) == 65


def test_nothing_is_visible_before_publish_and_nothing_after_discard(archive: Archive) -> None:
    writer = archive.writer(RUN)
    relpath = writer.add("m", {"main": raw(b"x")})
    with pytest.raises(ArchiveError, match="no archived inputs"):
        archive.list(relpath)
    (hidden,) = files_below(archive.root)
    assert re.fullmatch(r"2024/05/01/\.123005\.\w+\.part", hidden)
    writer.discard()
    assert files_below(archive.root) == []
    with pytest.raises(ArchiveError, match="already closed"):
        writer.add("n", {"main": raw(b"y")})


def test_a_run_that_archived_nothing_leaves_no_file(archive: Archive) -> None:
    archive.writer(RUN).publish()
    assert not archive.root.exists()


def test_a_published_run_takes_no_more_modules(archive: Archive) -> None:
    writer = archive.writer(RUN)
    writer.add("m", {"main": raw(b"x")})
    writer.publish()
    writer.discard()  # too late to drop it: a published run stays
    with pytest.raises(ArchiveError, match="already closed"):
        writer.add("n", {"main": raw(b"y")})
    assert archive.list("2024/05/01/123005/m") == ["main.json", "meta.json"]


def test_a_failed_publish_leaves_nothing(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(self: RunWriter) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunWriter, "_seal", disk_full)
    with pytest.raises(OSError, match="No space"):
        archive.store(RUN, "m", {"main": raw(b"x")})
    assert files_below(archive.root) == []


CRASHING_WRITER = """
import os, signal, sys
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from happyface.archive.runs import Archive
from happyface.sources import RawInput

run = datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)
writer = Archive(Path(sys.argv[1])).writer(run)
writer.add("m", {"main": RawInput("https://x.example/", b"body", run, "text/plain")})
os.kill(os.getpid(), signal.SIGKILL)
"""


def crash_a_writer(archive: Archive) -> Path:
    """A real process that dies mid-run; returns the file it left, made old enough to judge."""
    ended = subprocess.run([sys.executable, "-c", CRASHING_WRITER, str(archive.root)], check=False)
    assert ended.returncode == -9
    (left,) = (archive.root / "2024/05/01").iterdir()
    old = time.time() - 600
    os.utime(left, (old, old))
    return left


def test_a_crash_leaves_no_visible_run_and_maintenance_removes_the_rest(archive: Archive) -> None:
    left = crash_a_writer(archive)
    assert left.name.startswith(".123005.") and left.name.endswith(".part")
    with pytest.raises(ArchiveError, match="no archived inputs"):
        archive.list("2024/05/01/123005/m")
    assert archive.cleanup(RUN + timedelta(days=1)) == 0  # a leftover is no run
    assert archive.remove_unfinished() == 1
    assert files_below(archive.root) == []


def test_maintenance_removes_a_crashed_writers_file_even_keeping_runs_forever(
    archive: Archive, tmp_path: Path
) -> None:
    crash_a_writer(archive)
    archive.store(RUN - timedelta(days=400), "m", {"main": raw(b"x")})
    settings = SiteSettings.model_validate({"title": "t", "archive": {"keep_days": 0}})
    store = open_store(f"sqlite:///{tmp_path / 'hf.db'}")
    try:
        counts = Maintenance(settings, store, archive).clean(RUN)
    finally:
        store.close()
    assert counts["unfinished archive files"] == 1 and "archived runs" not in counts
    assert files_below(archive.root) == ["2023/03/28/123005.zip"]


def test_the_next_run_removes_what_a_crashed_one_left(archive: Archive) -> None:
    crash_a_writer(archive)
    writer = archive.writer(RUN + timedelta(minutes=15))
    assert files_below(archive.root) == []
    writer.add("m", {"main": raw(b"x")})
    writer.publish()
    assert files_below(archive.root) == ["2024/05/01/124505.zip"]


def test_a_live_writer_keeps_its_file_however_old(archive: Archive) -> None:
    writer = archive.writer(RUN)
    writer.add("m", {"main": raw(b"x")})
    assert writer.temp is not None
    old = time.time() - 3600
    os.utime(writer.temp, (old, old))
    assert archive.remove_unfinished() == 0
    archive.writer(RUN + timedelta(minutes=15)).discard()  # another run of the same day
    writer.publish()
    assert archive.open("2024/05/01/123005/m", "main.json") == b"x"


def test_module_id_must_be_a_plain_name(archive: Archive) -> None:
    with pytest.raises(ArchiveError, match=re.escape("module id '../x' is not allowed")):
        archive.store(RUN, "../x", {})


@pytest.mark.parametrize(
    "relpath",
    ["../../etc", "/etc/passwd", "2024/05/01/123005/../../../..", "2024/05/01/123005", ""],
)
def test_malformed_paths_refused(archive: Archive, relpath: str) -> None:
    with pytest.raises(ArchiveError, match="not an archive path"):
        archive.list(relpath)


@pytest.mark.parametrize("name", ["../meta.json", "/etc/passwd", "..", ".hidden", "a/b"])
def test_traversing_file_names_refused(archive: Archive, name: str) -> None:
    relpath = archive.store(RUN, "m", {"main": raw(b"x")})
    with pytest.raises(ArchiveError, match="is not allowed"):
        archive.open(relpath, name)


def test_the_index_is_no_file_of_a_module(archive: Archive) -> None:
    relpath = archive.store(RUN, "m", {"main": raw(b"x")})
    with pytest.raises(ArchiveError, match="is not allowed"):
        archive.open(relpath, ".index.json")


def test_missing_things_are_archive_errors(archive: Archive) -> None:
    relpath = archive.store(RUN, "m", {"main": raw(b"x")})
    with pytest.raises(ArchiveError, match=re.escape("no file 'other.json'")):
        archive.open(relpath, "other.json")
    with pytest.raises(ArchiveError, match="no archived inputs"):
        archive.list("2024/05/01/123005/other")
    with pytest.raises(ArchiveError, match="no archived inputs"):
        archive.list("2024/05/01/000000/m")


def test_a_damaged_run_file_is_an_archive_error(archive: Archive) -> None:
    relpath = archive.store(RUN, "m", {"main": raw(b"x")})
    (archive.root / RUN_FILE).write_bytes(b"PK not really a zip")
    with pytest.raises(ArchiveError, match="unreadable"):
        archive.list(relpath)


def test_a_run_file_linked_from_outside_is_refused(archive: Archive, tmp_path: Path) -> None:
    elsewhere = Archive(tmp_path / "elsewhere")
    elsewhere.store(RUN, "m", {"main": raw(b"secret")})
    (archive.root / "2024/05/01").mkdir(parents=True)
    (archive.root / RUN_FILE).symlink_to(elsewhere.root / RUN_FILE)
    with pytest.raises(ArchiveError, match="leads outside the archive"):
        archive.open("2024/05/01/123005/m", "main.json")
    assert archive.cleanup(RUN + timedelta(days=1)) == 0
    assert (elsewhere.root / RUN_FILE).is_file()


def write_old_layout(root: Path, relpath: str, body: bytes) -> None:
    """A module's folder as archives before run files were written."""
    folder = root / relpath
    folder.mkdir(parents=True)
    (folder / "main.json").write_bytes(body)
    meta = {"module": folder.name, "run_started": RUN.isoformat(), "inputs": {"main": {}}}
    (folder / "meta.json").write_text(json.dumps(meta))


def test_the_old_folder_layout_is_still_read(archive: Archive) -> None:
    write_old_layout(archive.root, "2024/04/01/120000/m", b'{"old": 1}')
    assert archive.list("2024/04/01/120000/m") == ["main.json", "meta.json"]
    assert archive.open("2024/04/01/120000/m", "main.json") == b'{"old": 1}'
    meta = json.loads(archive.open("2024/04/01/120000/m", "meta.json"))
    assert meta["module"] == "m"
    with pytest.raises(ArchiveError, match=re.escape("no file 'x.json'")):
        archive.open("2024/04/01/120000/m", "x.json")


def test_old_folders_linking_outside_are_refused(archive: Archive, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    write_old_layout(archive.root, "2024/04/01/120000/m", b"x")
    folder = archive.root / "2024/04/01/120000/m"
    (folder / "leak.txt").symlink_to(secret)
    (folder.parent / "outside").symlink_to(tmp_path)
    assert "leak.txt" not in archive.list("2024/04/01/120000/m")
    with pytest.raises(ArchiveError, match="leads outside its folder"):
        archive.open("2024/04/01/120000/m", "leak.txt")
    with pytest.raises(ArchiveError, match="leads outside the archive"):
        archive.list("2024/04/01/120000/outside")


def test_cleanup_removes_whole_old_runs_of_both_layouts(archive: Archive, tmp_path: Path) -> None:
    for days in (40, 31, 1):
        for module in ("a", "b"):
            archive.store(RUN - timedelta(days=days), module, {"main": raw(b"x")})
    write_old_layout(archive.root, "2024/03/10/120000/a", b"x")
    write_old_layout(archive.root, "2024/03/10/120000/b", b"x")
    outside = tmp_path / "outside"
    (outside / "000000").mkdir(parents=True)
    (archive.root / "2024/03/01").mkdir(parents=True)
    os.symlink(outside / "000000", archive.root / "2024/03/01/000000")
    removed = archive.cleanup(RUN - timedelta(days=30))
    assert removed == 3  # two run files and one run folder
    assert (outside / "000000").is_dir()  # never followed out of the archive
    assert sorted(str(p.relative_to(archive.root)) for p in archive.root.glob("*/*/*/*")) == [
        "2024/03/01/000000",
        "2024/04/30/123005.zip",
    ]
    assert not (archive.root / "2024/03/22").exists()  # empty day folders go too
    assert not (archive.root / "2024/03/10").exists()


def test_cleanup_of_a_missing_archive(tmp_path: Path) -> None:
    assert Archive(tmp_path / "never").cleanup(RUN) == 0
    assert Archive(tmp_path / "never").remove_unfinished() == 0


def test_cleanup_through_a_symlinked_or_relative_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "disk").mkdir()
    os.symlink(tmp_path / "disk", tmp_path / "link")
    Archive(tmp_path / "link").store(RUN - timedelta(days=40), "a", {"main": raw(b"x")})
    assert Archive(tmp_path / "link").cleanup(RUN) == 1
    Archive(tmp_path / "disk").store(RUN - timedelta(days=40), "a", {"main": raw(b"x")})
    monkeypatch.chdir(tmp_path)
    assert Archive(Path("disk")).cleanup(RUN) == 1


SITE = """
[site]
title = "Archive"
database = "sqlite:///archive.db"

[[category]]
id = "news"
title = "News"

[[module]]
id = "feed"
type = "rss"
category = "news"
title = "Site news"
source = "news.rss"
settings = { days = 100000 }
"""


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    """A one-module site whose source is a file, run through the real acquisition."""
    site = load_site(write_site(tmp_path / "site", SITE), Registry())
    (site.root / "news.rss").write_bytes(data("news.rss"))
    store = open_store(site.database_url)
    yield Runner(site, store, Fetcher(base_dir=site.root), Archive(tmp_path / "archive"))
    store.close()


async def test_a_run_publishes_its_archive_before_it_becomes_visible(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.archive is not None
    root, commit = runner.archive.root, runner.store.finish_run
    at_commit: list[list[str]] = []

    def finish_run(*args: Any) -> None:
        at_commit.append(files_below(root))
        commit(*args)

    monkeypatch.setattr(runner.store, "finish_run", finish_run)
    outcome = await runner.run(now=RUN)
    assert outcome is not None
    assert at_commit == [[RUN_FILE]]
    (record,) = outcome.records
    assert record.archive == "2024/05/01/123005/feed"
    (body,) = set(runner.archive.list(record.archive)) - {"meta.json"}
    assert runner.archive.open(record.archive, body) == data("news.rss")


async def test_a_run_failing_after_its_modules_leaves_no_archive(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Runner, records: object) -> None:
        raise RuntimeError("rating the categories broke")

    monkeypatch.setattr(Runner, "_categories", broken)
    with pytest.raises(RunFailedError, match="rating the categories broke"):
        await runner.run(now=RUN)
    assert runner.archive is not None and files_below(runner.archive.root) == []


async def test_a_run_whose_archive_fails_is_stored_without_links(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: RunWriter) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunWriter, "_seal", disk_full)
    outcome = await runner.run(now=RUN)
    assert outcome is not None
    (stored,) = runner.store.results(outcome.run_id)
    assert stored.archive is None  # no link to a file that is not there
    assert runner.archive is not None and files_below(runner.archive.root) == []


def record(module_id: str, archive: str | None) -> ModuleRecord:
    return ModuleRecord(module_id, "c", Status.HAPPY, "", Result(), archive=archive)


async def test_modules_finishing_meanwhile_are_written_in_one_batch(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[list[str]] = []
    real_add_all = RunWriter.add_all

    def counted(self: RunWriter, batch: list[tuple[str, Any]]) -> set[str]:
        batches.append([module_id for module_id, _ in batch])
        return real_add_all(self, batch)

    monkeypatch.setattr(RunWriter, "add_all", counted)
    feed = await open_feed(archive, RUN)
    assert feed is not None
    paths = [feed.add(m, {"main": raw(m.encode())}) for m in ("a", "b", "c")]
    assert paths == ["2024/05/01/123005/a", "2024/05/01/123005/b", "2024/05/01/123005/c"]
    await publish(feed, [record(m, p) for m, p in zip("abc", paths, strict=True)])
    assert batches == [["a", "b", "c"]]  # one thread hop for the three, not one each
    assert archive.open(paths[1], "main.json") == b"b"


async def test_a_module_whose_inputs_could_not_be_written_loses_only_its_link(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = RunWriter._write_module

    def full_for_b(self: RunWriter, module_id: str, inputs: Any) -> dict[str, Any]:
        if module_id == "b":
            raise OSError(28, "No space left on device")
        return real_write(self, module_id, inputs)

    monkeypatch.setattr(RunWriter, "_write_module", full_for_b)
    feed = await open_feed(archive, RUN)
    assert feed is not None
    records = [record(m, feed.add(m, {"main": raw(m.encode())})) for m in "abc"]
    published = await publish(feed, records)
    assert [r.archive for r in published] == ["2024/05/01/123005/a", None, "2024/05/01/123005/c"]
    assert archive.open("2024/05/01/123005/c", "main.json") == b"c"


def test_the_web_serves_archived_files_from_run_files(detail_site: DetailSite) -> None:
    """Two runs of real module types, archived by the real acquisition, served by the app."""
    assert files_below(detail_site.archive.root) == [
        "2024/06/01/123000.zip",
        "2024/06/01/124500.zip",
    ]
    client = detail_site.client()
    first = client.get("/archive/1/load/main.bin")
    assert first.status_code == 200 and first.content == data("plot_load.png")
    assert client.get("/archive/2/load/main.bin").content == data("plot_load.gif")
    meta = client.get("/archive/2/load/meta.json")
    assert meta.status_code == 200
    assert json.loads(meta.text)["inputs"]["transfers"]["file"] == "transfers.svg"
    assert client.get("/archive/2/load/other.bin").status_code == 404
    assert client.get("/archive/2/load/.index.json").status_code == 404
    assert '<img src="/archive/2/load/transfers.svg"' in client.get("/module/load").text
