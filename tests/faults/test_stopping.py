"""Stopping: SIGTERM and SIGINT cancel a run, record it as cancelled and free the lock at once;
a command whose reader went away exits quietly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from happyface.storage import open_store
from tests.faults.sites import all_runs
from tests.fixtures.processes import free_port, happyface, wait_for
from tests.fixtures.site import write_site
from tests.fixtures.sources import MisbehavingServer

HANGING_SITE = """
[site]
title = "Hanging site"
database = "sqlite:///happyface.db"
interval = "1h"
fetch_timeout = 60

[site.web]
port = {port}

[[category]]
id = "checks"
title = "Checks"

[[module]]
id = "hanging"
type = "http_check"
category = "checks"
title = "Never answers"
source = "{url}"
"""


def hanging_site(folder: Path, server: MisbehavingServer, port: int = 0) -> Path:
    return write_site(folder, HANGING_SITE.format(url=server.url("/hang"), port=port))


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, f"happyface exited with {process.returncode}"
        assert time.monotonic() < deadline, "the run never began"
        time.sleep(0.1)


def settled(database: str) -> bool:
    """The run is recorded as cancelled and the lock released."""
    runs = all_runs(database)
    if not runs or runs[-1].state == "running":
        return False
    store = open_store(database)
    try:
        return store.lock_info() is None
    finally:
        store.close()


def assert_stopped_cleanly(process: subprocess.Popen[bytes], sig: int, database: str) -> None:
    """Signal a process mid-run: within 2 s its run is recorded cancelled and the lock freed
    (so the next run starts at once), and it exits with 128 + sig."""
    wait_until(lambda: bool(all_runs(database)), process)
    sent = time.monotonic()
    process.send_signal(sig)
    while not settled(database) and time.monotonic() - sent < 2.0:
        time.sleep(0.02)
    assert settled(database)
    assert process.wait(timeout=30) == 128 + sig
    # exiting adds the interpreter's teardown: a fraction of a second, more on a loaded machine
    assert time.monotonic() - sent < 5.0
    (run,) = all_runs(database)
    assert (run.state, run.error) == ("failed", "cancelled: the process was stopped mid-run")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_acquire_stops_on_a_signal_and_records_the_run_cancelled(
    tmp_path: Path, misbehaving_server: MisbehavingServer, sig: int
) -> None:
    config = hanging_site(tmp_path, misbehaving_server)
    command = [sys.executable, "-m", "happyface", "-c", str(config), "acquire"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert_stopped_cleanly(process, sig, f"sqlite:///{tmp_path / 'happyface.db'}")
        assert process.stderr is not None
        assert b"Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_serve_stops_on_sigterm_and_records_the_run_cancelled(
    tmp_path: Path, misbehaving_server: MisbehavingServer
) -> None:
    port = free_port()
    config = hanging_site(tmp_path, misbehaving_server, port)
    with happyface("-c", str(config), "serve") as process:
        wait_for(f"http://127.0.0.1:{port}/", process)
        assert_stopped_cleanly(process, signal.SIGTERM, f"sqlite:///{tmp_path / 'happyface.db'}")


def test_serve_stopped_by_sigint_says_so_even_when_sigint_was_ignored_at_start(
    tmp_path: Path, misbehaving_server: MisbehavingServer
) -> None:
    """A background job starts with SIGINT ignored; uvicorn stops on it anyway, and then the
    exit code must not claim success (the cause of the demo's exit code 0 after Ctrl-C)."""
    port = free_port()
    config = hanging_site(tmp_path, misbehaving_server, port)
    command = [sys.executable, "-m", "happyface", "-c", str(config), "serve"]

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    log = (tmp_path / "serve.log").open("wb+")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=ignore_sigint
    )
    process.log = log  # type: ignore[attr-defined]
    try:
        wait_for(f"http://127.0.0.1:{port}/", process)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def test_a_command_whose_reader_went_away_exits_quietly(tmp_path: Path) -> None:
    """`happyface check | head -1`: the reader is gone before the output is written."""
    config = write_site(tmp_path, '[site]\ntitle = "x"\n')
    command = [sys.executable, "-m", "happyface", "-c", str(config), "check"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `head -1` after its line, but before anything is written
    errors = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=30) == 141  # 128 + SIGPIPE, as the shell reports such a writer
    assert errors == b""
