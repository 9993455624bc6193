"""The key cache of bearer checks: kept, fetched again for a new `kid`, not for every bad one.

The issuer here is a small local server whose published key set the test changes, as a
provider does when it rotates its signing key.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from happyface.config.access import BearerConfig
from happyface.web.access.bearer import BearerVerifier
from happyface.web.access.jwtcheck import TokenRefused
from happyface.web.access.providers import Providers

AUDIENCE = "https://happyface.test"


class KeyServer:
    """Publishes `keys` at /jwks and counts how often they were fetched."""

    def __init__(self) -> None:
        self.keys: list[RSAKey] = []
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                body = json.dumps({"keys": [k.as_dict(private=False) for k in server.keys]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.http.server_address[1]}"


@pytest.fixture
def keys() -> Iterator[KeyServer]:
    server = KeyServer()
    thread = threading.Thread(target=server.http.serve_forever, daemon=True)
    thread.start()
    yield server
    server.http.shutdown()
    server.http.server_close()


def key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256"})


def token(issuer: str, signer: RSAKey, **more: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"iss": issuer, "sub": "s", "aud": AUDIENCE, "exp": now + 60, **more}
    return jwt.encode({"alg": "RS256", "kid": signer.kid}, claims, signer)


def verifier(issuer: str, min_refresh: float, **more: Any) -> BearerVerifier:
    entry = {"issuer": issuer, "audience": [AUDIENCE], "jwks_uri": issuer + "/jwks", **more}
    config = BearerConfig.model_validate({"issuers": [entry]})
    return BearerVerifier(config, Providers(min_refresh=min_refresh))


def test_a_rotated_key_is_fetched_when_a_token_names_it(keys: KeyServer) -> None:
    old, new = key("old"), key("new")
    keys.keys = [old]
    check = verifier(keys.issuer, min_refresh=0)

    async def go() -> None:
        await check.identity(token(keys.issuer, old))
        await check.identity(token(keys.issuer, old))
        assert keys.fetches == 1  # kept
        keys.keys = [new]  # the provider rotated its key
        who = await check.identity(token(keys.issuer, new))
        assert who.subject == "s" and keys.fetches == 2

    asyncio.run(go())


def test_made_up_key_ids_do_not_turn_into_a_stream_of_fetches(keys: KeyServer) -> None:
    real = key("real")
    keys.keys = [real]
    check = verifier(keys.issuer, min_refresh=60)
    rogues = [key("made-up-1"), key("made-up-2")]

    async def go() -> None:
        await check.identity(token(keys.issuer, real))
        for n in range(20):
            with pytest.raises(TokenRefused):
                await check.identity(token(keys.issuer, rogues[n % 2]))
        assert keys.fetches == 1

    asyncio.run(go())


def test_an_unreachable_issuer_is_a_refusal_not_a_crash() -> None:
    check = verifier("http://127.0.0.1:9", min_refresh=0)
    with pytest.raises(TokenRefused, match="keys are unavailable"):
        asyncio.run(check.identity(token("http://127.0.0.1:9", key("k"))))


def test_groups_come_from_the_named_claim_only_when_one_is_named(keys: KeyServer) -> None:
    signer = key("k")
    keys.keys = [signer]
    claims = {"cern_roles": ["admins"], "groups": ["shifters"], "wlcg.groups": "/cms /cms/x"}
    named = verifier(keys.issuer, min_refresh=0, groups_claim="cern_roles")
    every = verifier(keys.issuer, min_refresh=0)

    async def go() -> tuple[frozenset[str], frozenset[str]]:
        one = await named.identity(token(keys.issuer, signer, **claims))
        known = await every.identity(token(keys.issuer, signer, **claims))
        return one.groups, known.groups

    one, known = asyncio.run(go())
    assert one == {"admins"}
    assert known == {"shifters", "/cms", "/cms/x"}  # a space-separated string counts too
