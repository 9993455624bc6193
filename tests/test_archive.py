"""The archive of raw inputs: layout, atomic writes, safe reading, cleanup."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from happyface import FetchError, RawInput
from happyface.acquisition import archive as archive_module
from happyface.acquisition.archive import Archive, ArchiveError

RUN = datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)


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


def test_layout_bodies_and_meta(archive: Archive) -> None:
    inputs = {
        "main": raw(b'{"jobs": 3}'),
        "pools": raw(b"<pools/>", "text/xml; charset=utf-8"),
        "news": FetchError("HTTP 503 Service Unavailable from https://news.example.org/"),
    }
    relpath = archive.store(RUN, "batch_jobs", inputs)
    assert relpath == "2024/05/01/123005/batch_jobs"
    assert archive.list(relpath) == ["main.json", "meta.json", "pools.xml"]
    assert archive.open(relpath, "pools.xml") == b"<pools/>"
    meta = json.loads(archive.open(relpath, "meta.json"))
    assert meta["module"] == "batch_jobs"
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


def test_run_time_is_kept_in_utc(archive: Archive) -> None:
    berlin = RUN.astimezone(timezone(timedelta(hours=2)))
    assert archive.store(berlin, "m", {"main": raw(b"x")}) == "2024/05/01/123005/m"


def test_awkward_input_names_become_safe_distinct_files(archive: Archive) -> None:
    inputs = {"../etc/passwd": raw(b"a", ""), "meta": raw(b"b"), "a b": raw(b"c", "text/plain")}
    relpath = archive.store(RUN, "m", inputs)
    assert archive.list(relpath) == ["_etc_passwd.bin", "a_b.txt", "meta-2.json", "meta.json"]


def test_storing_again_replaces_the_folder(archive: Archive) -> None:
    archive.store(RUN, "m", {"old": raw(b"1")})
    relpath = archive.store(RUN, "m", {"new": raw(b"2")})
    assert archive.list(relpath) == ["meta.json", "new.json"]
    assert [p.name for p in (archive.root / relpath).parent.iterdir()] == ["m"]


def test_a_failed_write_leaves_nothing(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(archive_module, "_move_into_place", crash)
    with pytest.raises(OSError, match="No space"):
        archive.store(RUN, "m", {"main": raw(b"x")})
    run_folder = archive.root / "2024/05/01/123005"
    assert list(run_folder.iterdir()) == []


def test_readers_never_see_a_half_written_folder(archive: Archive) -> None:
    """Until the rename the folder has a hidden name that is no valid archive path."""
    relpath = archive.store(RUN, "m", {"main": raw(b"x")})
    (archive.root / relpath).parent.joinpath(".m.half").mkdir()
    with pytest.raises(ArchiveError, match="not an archive path"):
        archive.list("2024/05/01/123005/.m.half")


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


def test_symlinks_out_of_the_archive_refused(archive: Archive, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    relpath = archive.store(RUN, "m", {"main": raw(b"x")})
    folder = archive.root / relpath
    (folder / "leak.txt").symlink_to(secret)
    (folder.parent / "outside").symlink_to(tmp_path)
    assert "leak.txt" not in archive.list(relpath)
    with pytest.raises(ArchiveError, match="leads outside its folder"):
        archive.open(relpath, "leak.txt")
    with pytest.raises(ArchiveError, match="leads outside the archive"):
        archive.list("2024/05/01/123005/outside")


def test_missing_things_are_archive_errors(archive: Archive) -> None:
    relpath = archive.store(RUN, "m", {"main": raw(b"x")})
    with pytest.raises(ArchiveError, match=re.escape("no file 'other.json'")):
        archive.open(relpath, "other.json")
    with pytest.raises(ArchiveError, match="no archived inputs"):
        archive.list("2024/05/01/123005/other")


def test_cleanup_removes_whole_old_runs(archive: Archive, tmp_path: Path) -> None:
    for days in (40, 31, 1):
        for module in ("a", "b"):
            archive.store(RUN - timedelta(days=days), module, {"main": raw(b"x")})
    outside = tmp_path / "outside"
    (outside / "000000").mkdir(parents=True)
    (archive.root / "2024/03/01").mkdir(parents=True)
    os.symlink(outside / "000000", archive.root / "2024/03/01/000000")
    removed = archive.cleanup(RUN - timedelta(days=30))
    assert removed == 2
    assert (outside / "000000").is_dir()  # never followed out of the archive
    assert sorted(str(p.relative_to(archive.root)) for p in archive.root.glob("*/*/*/*")) == [
        "2024/03/01/000000",
        "2024/04/30/123005",
    ]
    assert not (archive.root / "2024/03/22").exists()  # empty day folders go too


def test_cleanup_of_a_missing_archive(tmp_path: Path) -> None:
    assert Archive(tmp_path / "never").cleanup(RUN) == 0


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
