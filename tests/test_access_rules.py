"""DNs in both spellings, DN files, the authoriser command, proxy headers and proxy chains."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from cryptography import x509

from happyface.config.access import AccessConfig, GroupConfig
from happyface.dn import DN, DnError
from happyface.web.access.groups import Authoriser, DnFile, Groups, Identity, MemberRule, parse_line
from happyface.web.access.identity import HeaderSource, from_chain, from_proxy_headers
from tests.fixtures.pki import Pki

JANE = "/C=DE/O=GermanGrid/OU=KIT/CN=Jane Doe"


@pytest.mark.parametrize(
    "other",
    [
        "CN=Jane Doe,OU=KIT,O=GermanGrid,C=DE",
        "cn=jane  doe, ou=KIT, o=GermanGrid, c=DE",
        "commonName=Jane Doe,organizationalUnitName=KIT,O=GermanGrid,2.5.4.6=DE",
        "  /C=DE/O=GermanGrid/OU=KIT/CN=Jane Doe ",
    ],
)
def test_the_two_spellings_of_a_dn_compare_equal(other: str) -> None:
    assert DN.parse(other) == DN.parse(JANE)


def test_escapes_and_non_ascii_are_undone() -> None:
    assert DN.parse(r"CN=Doe\, Jane,O=Grid\2C e.V.,C=DE") == DN.parse(
        "/C=DE/O=Grid, e.V./CN=Doe, Jane"
    )
    assert DN.parse(r"CN=J\C3\A9r\C3\B4me,C=FR") == DN.parse(r"/C=FR/CN=J\xC3\xA9r\xC3\xB4me")
    assert DN.parse("CN=x,1.2.840.113549.1.9.1=a@b.org") == DN.parse("/emailAddress=a@b.org/CN=x")


@pytest.mark.parametrize(
    "other", [JANE + "/CN=Eve", "/C=DE/O=GermanGrid/CN=Jane Doe", "/CN=Jane Doe"]
)
def test_different_names_differ(other: str) -> None:
    assert DN.parse(other) != DN.parse(JANE)


@pytest.mark.parametrize("bad", ["", "   ", "/nonsense", "CN"])
def test_garbage_is_no_dn(bad: str) -> None:
    with pytest.raises(DnError):
        DN.parse(bad)


def test_rules_match_the_issuer_when_given() -> None:
    issuer = DN.parse("/C=DE/O=GermanGrid/CN=GridKa-CA")
    rule = MemberRule(DN.parse(JANE), issuer)
    assert rule.matches(Identity(DN.parse(JANE), issuer))
    assert not rule.matches(Identity(DN.parse(JANE), DN.parse("/CN=Evil CA")))
    assert not rule.matches(Identity(DN.parse(JANE), None))
    assert MemberRule(DN.parse(JANE)).matches(Identity(DN.parse(JANE), DN.parse("/CN=Any CA")))


def test_lines_of_dn_files() -> None:
    assert parse_line("  # a comment") is None and parse_line("") is None
    assert parse_line(JANE) == MemberRule(DN.parse(JANE))
    assert parse_line(f'"{JANE}" cms001') == MemberRule(DN.parse(JANE))  # a grid-mapfile line
    both = parse_line(f'"{JANE}" "/C=DE/O=GermanGrid/CN=GridKa-CA"')
    assert both is not None and both.issuer == DN.parse("/C=DE/O=GermanGrid/CN=GridKa-CA")


def test_a_dn_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "admins.dns"
    path.write_text(f"# admins\n{JANE}\nnot a dn at all\n")
    dns = DnFile(path)
    assert [r.subject for r in dns.rules()] == [DN.parse(JANE)]
    path.write_text("/CN=Somebody Else\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert [r.subject for r in dns.rules()] == [DN.parse("/CN=Somebody Else")]
    path.unlink()
    assert dns.rules() == ()


def test_a_dn_file_that_cannot_be_read_grants_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "admins.dns"  # stat() works, reading fails
    folder.mkdir()
    assert DnFile(folder).rules() == ()


def script(folder: Path, body: str) -> list[str]:
    path = folder / "authorise"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return [str(path)]


def test_the_authoriser_is_asked_once_per_ttl_and_given_the_dn(tmp_path: Path) -> None:
    log = tmp_path / "asked"
    command = script(tmp_path, f'echo "$1|$HAPPYFACE_ISSUER_DN" >> {log}\n[ "$1" = "{JANE}" ]\n')
    clock = [0.0]
    authoriser = Authoriser(command, ttl=60, timeout=5, clock=lambda: clock[0])
    jane = Identity(DN.parse("CN=Jane Doe,OU=KIT,O=GermanGrid,C=DE"), DN.parse("/CN=CA"))
    assert authoriser.allows(jane) and authoriser.allows(jane)
    assert not authoriser.allows(Identity(DN.parse("/CN=Mallory")))
    assert log.read_text().splitlines() == [f"{JANE}|/CN=CA", "/CN=Mallory|"]
    clock[0] = 61
    assert authoriser.allows(jane)
    assert len(log.read_text().splitlines()) == 3


def test_a_failing_or_slow_authoriser_denies(tmp_path: Path) -> None:
    jane = Identity(DN.parse(JANE))
    assert not Authoriser(script(tmp_path, "exit 3\n"), 60, 5).allows(jane)
    assert not Authoriser([str(tmp_path / "missing")], 60, 5).allows(jane)
    started = time.monotonic()
    assert not Authoriser(script(tmp_path, "sleep 5\n"), 60, 0.3).allows(jane)
    assert time.monotonic() - started < 3


def test_groups_combine_dns_files_and_commands(tmp_path: Path) -> None:
    (tmp_path / "ops.dns").write_text("/CN=Olga Ops\n")
    config = AccessConfig(
        groups={
            "admins": GroupConfig(dns=[JANE]),
            "ops": GroupConfig(files=[Path("ops.dns")], command=script(tmp_path, "exit 1\n")),
        }
    )
    groups = Groups(config, tmp_path)
    assert groups.of(None) == frozenset()
    assert groups.of(Identity(DN.parse(JANE))) == {"authenticated", "admins"}
    assert groups.of(Identity(DN.parse("CN=Olga Ops"))) == {"authenticated", "ops"}


HEADERS = {"x-ssl-client-s-dn": "CN=Jane Doe,OU=KIT,O=GermanGrid,C=DE",
           "x-ssl-client-i-dn": "CN=GridKa-CA,O=GermanGrid,C=DE",
           "x-ssl-client-verify": "SUCCESS"}  # fmt: skip


def test_dn_headers_count_only_from_trusted_proxies_that_verified() -> None:
    source = HeaderSource(AccessConfig(trusted_proxies=["10.0.0.0/24", "::1"]))
    assert source.identity(("10.0.0.7", 1), HEADERS) == Identity(
        DN.parse(JANE), DN.parse("/C=DE/O=GermanGrid/CN=GridKa-CA")
    )
    assert source.identity(("::1", 1), HEADERS) is not None
    assert source.identity(("10.0.1.7", 1), HEADERS) is None
    assert source.identity(None, HEADERS) is None
    assert source.identity(("10.0.0.7", 1), {**HEADERS, "x-ssl-client-verify": "FAILED:x"}) is None
    assert HeaderSource(AccessConfig()).identity(("127.0.0.1", 1), HEADERS) is None


def test_a_proxy_named_after_its_user_is_the_user() -> None:
    user = DN.parse(JANE)
    assert from_proxy_headers(DN.parse(JANE + "/CN=123456"), user) == Identity(user, None)
    assert from_proxy_headers(DN.parse(JANE + "/CN=proxy"), user) == Identity(user, None)
    # a CN under someone else's name is no proxy of theirs
    other = from_proxy_headers(DN.parse(JANE + "/CN=123"), DN.parse("/CN=Some CA"))
    assert other.subject == DN.parse(JANE + "/CN=123")


def test_a_proxy_chain_resolves_to_its_end_entity(pki: Pki) -> None:
    chain = x509.load_pem_x509_certificates(pki.proxy.read_bytes())
    identity = from_chain(chain)
    assert identity == Identity(DN.parse("/O=HappyFace Tests/CN=Test User"),
                                DN.parse("/O=HappyFace Tests/CN=HappyFace Test CA"))  # fmt: skip
