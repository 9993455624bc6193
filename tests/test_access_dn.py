"""DNs compared by structure: multi-valued RDNs are sets, never two components; proxy headers
whose structure cannot be known are refused, not guessed."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from cryptography import x509

from happyface.config.access import AccessConfig, GroupConfig
from happyface.dn import DN, AmbiguousDnError, DnError
from happyface.web.access.groups import DnFile, Groups, Identity
from happyface.web.access.identity import HeaderSource, from_chain, name_dn
from tests.fixtures.pki import FLAT_NAME, MULTI_NAME, Pki

MULTI = "/O=HappyFace Tests/OU=KIT+CN=Ada Admin"
FLAT = "/O=HappyFace Tests/OU=KIT/CN=Ada Admin"
#: what nginx sends in $ssl_client_s_dn for the multi-valued certificate (test_access_nginx.py)
MULTI_RFC2253 = "CN=Ada Admin+OU=KIT,O=HappyFace Tests"
ISSUER = "CN=HappyFace Test CA,O=HappyFace Tests"


@pytest.mark.parametrize(
    "spelling",
    [
        MULTI,
        "/O=HappyFace Tests/CN=Ada Admin+OU=KIT",
        MULTI_RFC2253,
        "OU=KIT+CN=Ada Admin,O=HappyFace Tests",
        "cn=ada admin + ou=kit, o=happyface tests",
    ],
)
def test_a_multi_valued_rdn_is_one_component_in_any_order(spelling: str) -> None:
    assert DN.parse(spelling) == DN.parse(MULTI)
    assert DN.parse(spelling) != DN.parse(FLAT)


@pytest.mark.parametrize(
    "other",
    [
        FLAT,
        "CN=Ada Admin,OU=KIT,O=HappyFace Tests",
        "OU=KIT,CN=Ada Admin,O=HappyFace Tests",
        r"CN=KIT\+CN=Ada Admin,O=HappyFace Tests",
        r"/O=HappyFace Tests/CN=KIT\+CN=Ada Admin",
        "/O=HappyFace Tests/OU=KIT+CN=Ada Admin+CN=Eve",
        "/O=HappyFace Tests/CN=Ada Admin",
    ],
)
def test_a_multi_valued_rdn_differs_from_every_flat_or_escaped_spelling(other: str) -> None:
    assert DN.parse(other) != DN.parse(MULTI)


def test_a_plus_that_starts_no_attribute_is_part_of_the_value() -> None:
    assert DN.parse("/O=T/CN=C++ Dev") == DN.parse(r"CN=C\+\+ Dev,O=T")
    assert DN.parse(r"/O=T/CN=a\+b=c") == DN.parse(r"CN=a\+b=c,O=T")
    assert DN.parse("/O=T/CN=a+b=c") == DN.parse("CN=a+b=c,O=T") != DN.parse(r"CN=a\+b=c,O=T")


def test_the_one_line_form_shows_the_structure_and_reads_back() -> None:
    multi = DN.parse(MULTI_RFC2253)
    assert str(multi) == "/O=HappyFace Tests/CN=Ada Admin+OU=KIT"
    assert DN.parse(str(multi)) == multi
    assert multi.common_name() == "Ada Admin"
    assert multi.parent() is None and DN.parse(MULTI + "/CN=123").parent() == multi
    # a proxy's CN is a component of its own, never one pair of a multi-valued one
    assert DN.parse("/O=HappyFace Tests/OU=KIT+CN=123").parent() is None


def test_certificate_names_are_read_structurally(pki: Pki) -> None:
    assert name_dn(MULTI_NAME) == DN.parse(MULTI) != name_dn(FLAT_NAME)
    assert name_dn(FLAT_NAME) == DN.parse(FLAT)
    multi = from_chain([x509.load_pem_x509_certificate(pki.multi_cert.read_bytes())])
    flat = from_chain([x509.load_pem_x509_certificate(pki.flat_cert.read_bytes())])
    assert multi == Identity(DN.parse(MULTI), DN.parse(ISSUER))
    assert flat == Identity(DN.parse(FLAT), DN.parse(ISSUER))


def test_config_and_dn_files_with_a_plus_match_the_multi_valued_name_only(tmp_path: Path) -> None:
    (tmp_path / "multi.dns").write_text(f"{MULTI}\n")
    (tmp_path / "flat.dns").write_text(f'"{FLAT}" "{ISSUER}"\n')
    groups = {
        "inline_multi": GroupConfig(dns=["CN=Ada Admin+OU=KIT,O=HappyFace Tests"]),
        "inline_flat": GroupConfig(dns=[FLAT]),
        "file_multi": GroupConfig(files=[Path("multi.dns")]),
        "file_flat": GroupConfig(files=[Path("flat.dns")]),
    }
    found = Groups(AccessConfig(groups=groups), tmp_path)
    multi = Identity(name_dn(MULTI_NAME), DN.parse(ISSUER))
    flat = Identity(name_dn(FLAT_NAME), DN.parse(ISSUER))
    assert found.of(multi) == {"authenticated", "inline_multi", "file_multi"}
    assert found.of(flat) == {"authenticated", "inline_flat", "file_flat"}


def test_a_dn_file_rewritten_with_a_plus_changes_who_matches(tmp_path: Path) -> None:
    path = tmp_path / "admins.dns"
    path.write_text(f"{FLAT}\n")
    dns = DnFile(path)
    assert [r.subject for r in dns.rules()] == [DN.parse(FLAT)]
    path.write_text(f"{MULTI}\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert [r.subject for r in dns.rules()] == [DN.parse(MULTI)]


def source() -> HeaderSource:
    return HeaderSource(AccessConfig(trusted_proxies=["127.0.0.1"]))


def headers(subject: str, issuer: str = ISSUER) -> dict[str, str]:
    return {"x-ssl-client-s-dn": subject, "x-ssl-client-i-dn": issuer,
            "x-ssl-client-verify": "SUCCESS"}  # fmt: skip


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (MULTI_RFC2253, MULTI),
        (r"CN=C\+\+ Dev\, Jr.,O=HappyFace Tests", "/O=HappyFace Tests/CN=C++ Dev, Jr."),
        (r"CN=J\C3\A9r\C3\B4me,O=T", "/O=T/CN=Jérôme"),
        ("CN=Jérôme,O=T".encode().decode("latin-1"), "/O=T/CN=Jérôme"),  # Apache: raw UTF-8
        ("1.2.3.4=#0C03756E6B+CN=x,O=T", "/O=T/1.2.3.4=unk+CN=x"),  # OpenSSL's DER of a string
        ("CN=a=b,O=T", "/O=T/CN=a=b"),
        (FLAT, FLAT),  # the one-line form, unambiguous without `+` or escapes
    ],
)
def test_a_proxys_dn_in_rfc2253_form_is_read_with_its_structure(header: str, expected: str) -> None:
    who = source().identity(("127.0.0.1", 1), headers(header))
    assert who is not None and who.subject == DN.parse(expected)


AMBIGUOUS = [
    MULTI,  # one-line `+`: a pair of one component, or part of a value?
    "/O=T/CN=C++ Dev",
    r"/O=T/CN=a\+b",  # an escape for OpenSSL 3, two characters for OpenSSL 1.1
    r"/O=T/CN=a\/CN=b",
    "CN=Ada <Admin>,O=T",  # specials RFC 2253 escapes, sent unescaped
    'CN="Ada Admin",O=T',
    "CN=Ada Admin;O=T",
    r"CN=Ada\Zmin,O=T",
]


@pytest.mark.parametrize("header", AMBIGUOUS)
def test_an_ambiguous_header_dn_is_refused_and_said_once(
    header: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(AmbiguousDnError):
        DN.parse_header(header)
    proxy = source()
    with caplog.at_level(logging.WARNING):
        assert proxy.identity(("127.0.0.1", 1), headers(header)) is None
        assert proxy.identity(("127.0.0.1", 1), headers(header)) is None
    warnings = [r for r in caplog.records if "ambiguous DN" in r.getMessage()]
    assert len(warnings) == 1


def test_an_ambiguous_issuer_refuses_the_identity_too() -> None:
    assert source().identity(("127.0.0.1", 1), headers(MULTI_RFC2253, "/O=T/CN=CA+OU=x")) is None


@pytest.mark.parametrize("bad", ["CN=x,", "CN=x\\", "=x", "CN=#zz", "CN=x+", "/nonsense"])
def test_malformed_dns_are_errors(bad: str) -> None:
    with pytest.raises(DnError):
        DN.parse(bad)
    with pytest.raises(DnError):
        DN.parse_header(bad)
