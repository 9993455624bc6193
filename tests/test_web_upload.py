"""Push uploads: a token per upload, size cap, atomic replacement, and `upload:NAME` sources."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from happyface.acquisition.fetch import Fetcher
from happyface.config.load import load_site
from happyface.errors import ConfigError, FetchError
from happyface.sources import Source
from happyface.storage import open_store
from happyface.web import create_app
from happyface.web.api.upload import bearer_matches
from tests.fixtures.web import CONFIG, web_registry

TOKEN = "s3cret-token"
QUEUE_TOKEN = "queue-token"
ROTATED_TOKEN = "queue-token-next"
UPLOAD = """
[site.upload]
dir = "incoming"
max_bytes = 1000
"""
UPLOADS = """
[[upload]]
name = "jobs.xml"
token = { env = "HF_TEST_UPLOAD_TOKEN" }

[[upload]]
name = "big"
token = { env = "HF_TEST_UPLOAD_TOKEN" }

[[upload]]
name = "fits"
token = [{ env = "HF_TEST_UPLOAD_TOKEN" }]

[[upload]]
name = "queue.json"
token = [{ env = "HF_TEST_QUEUE_TOKEN" }, { file = "queue-token-next" }]
"""


def upload_config(site_upload: str = UPLOAD, uploads: str = UPLOADS) -> str:
    return (
        CONFIG.replace(
            'database = "sqlite:///web.db"\n', 'database = "sqlite:///web.db"\n' + site_upload
        )
        + uploads
    )


@pytest.fixture
def upload_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("HF_TEST_UPLOAD_TOKEN", TOKEN)
    monkeypatch.setenv("HF_TEST_QUEUE_TOKEN", QUEUE_TOKEN)
    (tmp_path / "queue-token-next").write_text(ROTATED_TOKEN + "\n")
    (tmp_path / "happyface.toml").write_text(upload_config())
    site = load_site(tmp_path, web_registry())
    store = open_store(site.database_url)
    yield create_app(site, store)
    store.close()


def post(app: Any, url: str, content: Any, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(url, content=content, headers=headers)

    return asyncio.run(send())


def test_bearer_check() -> None:
    assert bearer_matches(f"Bearer {TOKEN}", TOKEN)
    assert bearer_matches(f"bearer  {TOKEN} ", TOKEN)
    assert not bearer_matches(f"Basic {TOKEN}", TOKEN)
    assert not bearer_matches("Bearer wrong", TOKEN)
    assert not bearer_matches(None, TOKEN) and not bearer_matches("Bearer ", TOKEN)


def test_upload_stores_the_file(upload_app: Any, tmp_path: Path) -> None:
    answer = post(upload_app, "/upload/jobs.xml", b"<jobs/>")
    assert answer.status_code == 201, answer.text
    assert answer.json()["source"] == "upload:jobs.xml" and answer.json()["bytes"] == 7
    assert (tmp_path / "incoming" / "jobs.xml").read_bytes() == b"<jobs/>"
    assert post(upload_app, "/upload/jobs.xml", b"<jobs n='2'/>").status_code == 201
    assert (tmp_path / "incoming" / "jobs.xml").read_bytes() == b"<jobs n='2'/>"
    assert [p.name for p in (tmp_path / "incoming").iterdir()] == ["jobs.xml"]


def test_upload_needs_the_token(upload_app: Any, tmp_path: Path) -> None:
    for token in (None, "wrong"):
        answer = post(upload_app, "/upload/jobs.xml", b"x", token=token)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["error"]["status"] == 401
    assert not (tmp_path / "incoming" / "jobs.xml").exists()


async def _chunks(count: int, size: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"x" * size


def test_too_large_uploads_are_refused_and_leave_nothing(upload_app: Any, tmp_path: Path) -> None:
    assert post(upload_app, "/upload/big", b"x" * 1001).status_code == 413  # Content-Length
    streamed = post(upload_app, "/upload/big", _chunks(20, 100))  # no length: cut while reading
    assert (
        streamed.status_code == 413 and "limit of 1000 bytes" in streamed.json()["error"]["message"]
    )
    assert list((tmp_path / "incoming").iterdir()) == []
    assert post(upload_app, "/upload/fits", _chunks(10, 100)).status_code == 201


@pytest.mark.parametrize("name", ["..", ".hidden", "a..b", "%2e%2e%2fetc", "a%2fb", "-x"])
def test_bad_names_are_refused(upload_app: Any, tmp_path: Path, name: str) -> None:
    # 405: the client already resolved "/upload/.." to "/", which takes no POST
    assert post(upload_app, f"/upload/{name}", b"x").status_code in (400, 404, 405)
    assert not (tmp_path / "secret").exists() and not (tmp_path / "etc").exists()
    assert not any((tmp_path / "incoming").glob("*")) if (tmp_path / "incoming").exists() else True


def test_a_token_writes_its_own_upload_and_nothing_else(upload_app: Any, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    for name, token in (("queue.json", TOKEN), ("jobs.xml", QUEUE_TOKEN), ("big", ROTATED_TOKEN)):
        answer = post(upload_app, f"/upload/{name}", b"FORGED", token=token)
        assert answer.status_code == 403, answer.text
        error = answer.json()["error"]
        assert error["message"] == (
            f"This token belongs to another upload; it may not write {name!r}."
        )
        assert not folder.exists() or list(folder.iterdir()) == []  # no file, no temporary
    for token in (QUEUE_TOKEN, ROTATED_TOKEN):  # every token of the list writes it
        assert (
            post(upload_app, "/upload/queue.json", token.encode(), token=token).status_code == 201
        )
        assert (folder / "queue.json").read_bytes() == token.encode()
    assert [p.name for p in folder.iterdir()] == ["queue.json"]


def test_an_undeclared_name_is_told_only_to_a_token_holder(upload_app: Any, tmp_path: Path) -> None:
    assert post(upload_app, "/upload/other.xml", b"x", token=None).status_code == 401
    assert post(upload_app, "/upload/other.xml", b"x", token="wrong").status_code == 401
    assert post(upload_app, "/upload/other.xml", b"x", token=TOKEN).status_code == 403
    assert not (tmp_path / "incoming").exists()


def test_an_unreadable_token_of_the_upload_is_a_503(
    upload_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TEST_QUEUE_TOKEN")
    answer = post(upload_app, "/upload/queue.json", b"x", token=ROTATED_TOKEN)
    assert answer.status_code == 503 and "HF_TEST_QUEUE_TOKEN" in answer.json()["error"]["hint"]
    # another upload's unreadable token neither blocks nor admits anybody elsewhere
    assert post(upload_app, "/upload/jobs.xml", b"x", token=TOKEN).status_code == 201


def test_the_shared_token_of_site_upload_is_refused_saying_what_to_write(tmp_path: Path) -> None:
    shared = '[site.upload]\ntoken = { env = "HAPPYFACE_UPLOAD_TOKEN" }\n'
    (tmp_path / "happyface.toml").write_text(upload_config(shared, ""))
    with pytest.raises(ConfigError) as caught:
        load_site(tmp_path, web_registry())
    (problem,) = caught.value.problems
    assert "site.upload.token: one token for every upload is no longer accepted" in problem
    assert '[[upload]] name = "jobs.xml" token = { env = "HAPPYFACE_UPLOAD_TOKEN" }' in problem


@pytest.mark.parametrize(
    ("uploads", "problem"),
    [
        ('[[upload]]\nname = "a"\ntoken = { env = "X" }\n' * 2, "'a' is already declared"),
        ('[[upload]]\nname = "a"\ntoken = []\n', "give at least one token"),
        ('[[upload]]\nname = "../a"\ntoken = { env = "X" }\n', "not a valid upload name"),
        ('[[upload]]\nname = "a"\n', "give a token .* or the groups that may write it"),
    ],
)
def test_upload_declarations_are_checked(tmp_path: Path, uploads: str, problem: str) -> None:
    (tmp_path / "happyface.toml").write_text(upload_config(UPLOAD, uploads))
    with pytest.raises(ConfigError, match=problem):
        load_site(tmp_path, web_registry())


def test_uploads_are_off_without_an_upload_declared(tmp_path: Path) -> None:
    (tmp_path / "happyface.toml").write_text(CONFIG)
    site = load_site(tmp_path, web_registry())
    store = open_store(site.database_url)
    answer = post(create_app(site, store), "/upload/x", b"x")
    assert answer.status_code == 404 and "not enabled" in answer.json()["error"]["message"]
    store.close()


async def test_upload_sources_read_the_upload_folder(tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "jobs.xml").write_bytes(b"<jobs/>")
    (tmp_path / "secret").write_text("no")
    now = datetime.now(UTC)
    async with Fetcher(base_dir=tmp_path, upload_dir=folder) as fetcher:
        raw = await fetcher.fetch(Source(url="upload:jobs.xml"), now)
        assert raw.content == b"<jobs/>"
        with pytest.raises(FetchError, match="nothing has been uploaded as 'missing'"):
            await fetcher.fetch(Source(url="upload:missing"), now)
    async with Fetcher(base_dir=tmp_path) as bare:
        with pytest.raises(FetchError, match="uploads are not set up"):
            await bare.fetch(Source(url="upload:jobs.xml"), now)


@pytest.mark.parametrize("url", ["upload:../secret", "upload:", "upload:a/b", "upload:.x"])
def test_upload_source_names_are_validated(url: str) -> None:
    with pytest.raises(ValueError, match="not a valid upload name"):
        Source(url=url)
