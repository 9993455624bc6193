"""Sources that accept only tokens: client credentials, token files, WLCG token discovery.

The tokens come from a real oidc-provider on loopback; the source is a local server that
verifies them against the provider's published keys, as a token-protected grid service does.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from happyface.acquisition.fetch import Fetcher
from happyface.acquisition.tokens import ClientCredentialsSupply, DiscoverySupply
from happyface.errors import FetchError
from happyface.sources import ClientCredentials, RawInput, SecretRef, Source
from tests.fixtures.oidc import ROBOT_CLIENT, ROBOT_SECRET, OpenIdProvider, openid_provider
from tests.fixtures.protected import BODY, protected_source

AUDIENCE = "https://source.test"
SECRET_ENV = "HF_TEST_ROBOT_SECRET"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIdProvider]:
    with openid_provider() as running:
        yield running


@pytest.fixture(autouse=True)
def robot_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, ROBOT_SECRET)


def grant(provider: OpenIdProvider, resource: str = AUDIENCE) -> ClientCredentials:
    return ClientCredentials(
        token_url=provider.token_url,
        client_id=ROBOT_CLIENT,
        client_secret=SecretRef(env=SECRET_ENV),
        scopes=["read"],
        resource=resource,
    )


def fetch_all(*sources: Source, pause: float = 0.0) -> list[RawInput | FetchError]:
    """Fetch the sources one after another with one fetcher (whose token cache they share)."""

    async def go() -> list[RawInput | FetchError]:
        answers = []
        async with Fetcher() as fetcher:
            for i, source in enumerate(sources):
                if i and pause:
                    await asyncio.sleep(pause)
                answers.append(await fetcher.fetch_or_error(source, NOW))
        return answers

    return asyncio.run(go())


def test_client_credentials_open_a_token_protected_source(provider: OpenIdProvider) -> None:
    with protected_source(provider.issuer, AUDIENCE) as server:
        source = Source(url=server.url, oauth2=grant(provider))
        first, second = fetch_all(source, source)
        bare = fetch_all(Source(url=server.url))[0]
    assert isinstance(first, RawInput) and first.json() == BODY
    assert isinstance(second, RawInput) and second.json() == BODY
    # one token, kept for the second fetch
    assert len(server.accepted) == 2 and server.accepted[0] == server.accepted[1]
    assert isinstance(bare, FetchError) and "HTTP 401" in str(bare)


def test_a_client_token_is_renewed_shortly_before_it_expires(provider: OpenIdProvider) -> None:
    now = [1000.0]
    supply = ClientCredentialsSupply(grant(provider), clock=lambda: now[0])

    async def tokens() -> list[str]:
        first = await supply.token()
        now[0] += 200  # of a 300 s lifetime: still kept
        kept = await supply.token()
        now[0] += 50  # within the last minute: renewed
        return [first, kept, await supply.token()]

    first, kept, renewed = asyncio.run(tokens())
    assert first == kept and renewed != first


def test_a_401_for_an_expired_token_is_retried_once_with_a_fresh_one(
    provider: OpenIdProvider, caplog: pytest.LogCaptureFixture
) -> None:
    with protected_source(provider.issuer, AUDIENCE, max_age=1.0) as server:
        source = Source(url=server.url, oauth2=grant(provider))
        with caplog.at_level(logging.INFO, logger="happyface.acquisition"):
            first, later = fetch_all(source, source, pause=2.6)  # past max_age + iat's second
    assert isinstance(first, RawInput) and isinstance(later, RawInput), later
    statuses = [status for _, status in server.seen]
    assert statuses == [200, 401, 200]
    tokens = [token for token, _ in server.seen]
    assert tokens[0] == tokens[1] != tokens[2]
    assert "refused the token (401)" in caplog.text
    assert all(token not in caplog.text for token in tokens)


def test_a_token_refused_again_is_a_fetch_error_after_one_retry(
    provider: OpenIdProvider, caplog: pytest.LogCaptureFixture
) -> None:
    with protected_source(provider.issuer, AUDIENCE) as server:
        wrong = Source(url=server.url, oauth2=grant(provider, resource="https://other.test"))
        with caplog.at_level(logging.DEBUG):
            (answer,) = fetch_all(wrong)
    assert isinstance(answer, FetchError) and "HTTP 401" in str(answer)
    assert len(server.seen) == 2  # the first try and one retry, no more
    for token, _ in server.seen:
        assert token not in str(answer) and token not in caplog.text


def test_a_token_file_is_read_again_when_it_changes(
    provider: OpenIdProvider, tmp_path: Path
) -> None:
    path = tmp_path / "token"
    with protected_source(provider.issuer, AUDIENCE) as server:
        source = Source(url=server.url, token_file=path)

        async def go() -> list[RawInput | FetchError]:
            async with Fetcher() as fetcher:
                path.write_text(provider.client_token(AUDIENCE) + "\n")
                first = await fetcher.fetch_or_error(source, NOW)
                path.write_text(provider.client_token(AUDIENCE) + "\n")  # oidc-agent renewed it
                return [first, await fetcher.fetch_or_error(source, NOW)]

        answers = asyncio.run(go())
    assert all(isinstance(a, RawInput) for a in answers), answers
    assert len(set(server.accepted)) == 2


def test_bearer_token_discovery_looks_where_the_wlcg_profile_says(tmp_path: Path) -> None:
    uid = 4_000_000_000 + os.getpid()  # a uid no real user has: its /tmp file is ours alone
    runtime = tmp_path / "run"
    runtime.mkdir()
    tmp_file = Path("/tmp") / f"bt_u{uid}"
    tmp_file.write_text("from-tmp\n")
    try:
        (runtime / f"bt_u{uid}").write_text("from-runtime\n")
        (tmp_path / "named").write_text("from-named-file\n")

        def found(environ: dict[str, str]) -> str:
            return asyncio.run(DiscoverySupply(environ, uid).token())

        everything = {
            "BEARER_TOKEN": "from-variable",
            "BEARER_TOKEN_FILE": str(tmp_path / "named"),
            "XDG_RUNTIME_DIR": str(runtime),
        }
        assert found(everything) == "from-variable"
        del everything["BEARER_TOKEN"]
        assert found(everything) == "from-named-file"
        del everything["BEARER_TOKEN_FILE"]
        assert found(everything) == "from-runtime"
        assert found({}) == "from-tmp"
        tmp_file.unlink()
        with pytest.raises(FetchError, match="no bearer token found"):
            found({})
    finally:
        tmp_file.unlink(missing_ok=True)


def test_a_discovered_token_opens_the_source(
    provider: OpenIdProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEARER_TOKEN", provider.client_token(AUDIENCE))
    with protected_source(provider.issuer, AUDIENCE) as server:
        (answer,) = fetch_all(Source(url=server.url, token_discovery=True))
    assert isinstance(answer, RawInput) and answer.json() == BODY


def test_one_way_to_authenticate_per_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one way to authenticate"):
        Source(url="https://x.test/", token_file=tmp_path / "t", token_discovery=True)


SITE = """
[site]
title = "Tokens"
interval = "15m"
database = "sqlite:///tokens.db"
log_dir = "logs"
log_level = "debug"

[[category]]
id = "batch"
title = "Batch"

[[module]]
id = "jobs"
type = "json_value"
category = "batch"
title = "Jobs"
source = {{ url = "{url}", oauth2 = {{ token_url = "{token_url}", client_id = "robot", \
client_secret = {{ env = "{env}" }}, scopes = ["read"], resource = "{audience}" }} }}

[module.settings]
values = {{ running = "$.running" }}

[[module]]
id = "refused"
type = "json_value"
category = "batch"
title = "Refused"
source = {{ url = "{url}", token_file = "token" }}

[module.settings]
values = {{ running = "$.running" }}
"""


def test_token_values_appear_in_no_log_database_or_archive(
    provider: OpenIdProvider, tmp_path: Path
) -> None:
    """A real `happyface acquire`: the tokens it sent are nowhere in what it kept."""
    with protected_source(provider.issuer, AUDIENCE) as server:
        config = SITE.format(
            url=server.url, token_url=provider.token_url, env=SECRET_ENV, audience=AUDIENCE
        )
        (tmp_path / "happyface.toml").write_text(config)
        # a token for another audience: refused, so its value would be in any error message
        (tmp_path / "token").write_text(provider.client_token("https://other.test"))
        done = subprocess.run(
            [sys.executable, "-m", "happyface", "-c", str(tmp_path), "acquire"],
            capture_output=True,
            timeout=120,
            env={**os.environ, SECRET_ENV: ROBOT_SECRET},
            check=False,
        )
    output = done.stdout + done.stderr
    assert server.accepted, output.decode(errors="replace")
    assert {status for _, status in server.seen} == {200, 401}
    kept = [output] + [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()]
    assert any(b"42" in k for k in kept[1:])  # the archive holds the body that came in
    for token, _ in server.seen:
        assert token and all(token.encode() not in k for k in kept if k != _file(tmp_path))
    assert ROBOT_SECRET.encode() not in b"".join(kept)


def _file(folder: Path) -> bytes:
    """The token file itself, which of course holds its token."""
    return (folder / "token").read_bytes()
