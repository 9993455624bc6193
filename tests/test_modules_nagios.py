"""The `nagios` module type: Nagios status.dat and Icinga 2 API JSON, rated by the worst state."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import Status
from happyface.errors import FormatError
from happyface.modules.nagios import Nagios
from happyface.plugins import Registry
from tests.fixtures.modules import (
    assert_clean_failure,
    data,
    huge_input,
    result_or_extract_error,
    run,
)

STATUS_DAT = data("nagios_status.dat")
ICINGA = data("icinga_services.json")


def test_registered_through_the_entry_point():
    assert Registry().get("nagios") is Nagios


def test_status_dat_counts_and_problems_worst_first():
    result = run(Nagios, STATUS_DAT)
    assert result.status is Status.UNHAPPY
    assert result.metrics["services.critical"] == 3 and result.metrics["services.ok"] == 1
    assert result.metrics["hosts.down"] == 2 and result.metrics["hosts.up"] == 1
    assert result.metrics["problems"] == 7 and result.metrics["problems.rated"] == 5
    table = result.tables[0]
    first = dict(zip(table.columns, table.rows[0], strict=True))
    assert first["host"] == "wn-042.gridka.example" and first["service"] is None  # a host first
    assert first["state"] == "DOWN" and first["since"] == "2024-06-01 10:55"
    assert table.rows[1][:3] == ("ce-arc01.gridka.example", "ARC-CE", "CRITICAL")
    assert "wn-042.gridka.example DOWN and 1 more" in result.message


def test_acknowledged_and_downtime_handling():
    rows = {(r[0], r[1]): r[-1] for r in run(Nagios, STATUS_DAT).tables[0].rows}
    assert rows[("se-head01.gridka.example", "PostgreSQL connections")] == "neutral"  # acked
    assert rows[("wn-043.gridka.example", "cvmfs")] == "ok"  # in downtime
    counted = run(Nagios, STATUS_DAT, acknowledged="count", in_downtime="count")
    assert counted.metrics["problems.rated"] == 7


def test_state_lists_decide_the_rating():
    only_ce = run(Nagios, STATUS_DAT, hosts=r"^ce-", services="Load")
    assert only_ce.status is Status.NEUTRAL  # Load is UNKNOWN; ARC-CE filtered out
    relaxed = run(Nagios, STATUS_DAT, hosts="ce-arc", unhappy_states=[], neutral_states=[])
    assert relaxed.status is None and relaxed.metrics["problems"] == 2
    assert "filters" in assert_clean_failure(Nagios, STATUS_DAT, hosts="nothing-matches")


def test_icinga_json():
    result = run(Nagios, ICINGA)
    assert result.status is Status.UNHAPPY
    assert result.metrics["services.critical"] == 1 and result.metrics["hosts.up"] == 1
    assert result.tables[0].rows[0][:3] == ("squid02.gridka.example", "squid-http", "CRITICAL")
    assert result.tables[0].rows[1][-1] == "neutral"  # acknowledged warning
    assert run(Nagios, ICINGA, services="xrootd").status is Status.NEUTRAL
    assert run(Nagios, ICINGA, services="xrootd", acknowledged="ok").status is None


def test_icinga_service_names_without_host_prefix():
    body = {"results": [{"attrs": {"name": "a!disk", "host_name": "a", "state": 1}}]}
    result = run(Nagios, json.dumps(body))
    assert result.tables[0].rows[0][1] == "disk" and result.tables[0].rows[0][4] is None


def test_settings_are_checked():
    with pytest.raises(ValueError, match="unknown state"):
        Nagios.Settings(unhappy_states=["BROKEN"])
    with pytest.raises(ValueError, match="both unhappy and neutral"):
        Nagios.Settings(unhappy_states=["WARNING"])
    with pytest.raises(ValueError, match="regular expression"):
        Nagios.Settings(hosts="(")
    assert Nagios.Settings(unhappy_states=["critical"]).unhappy_states == ["CRITICAL"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("", "empty"),
        ("garbage", "expected `name {`"),
        ("hoststatus {\n\thost_name=a\n\tcurrent_state=0\n", "truncated"),
        ("info {\n\tcreated=1\n\t}\n", "with hoststatus or servicestatus blocks, found no"),
        ("hoststatus {\n\tcurrent_state=0\n\t}\n", "no host_name"),
        ("hoststatus {\n\thost_name=a\n\tcurrent_state=7\n\t}\n", "not one of 0..2"),
        ("servicestatus {\n\thost_name=a\n\tcurrent_state=1\n\t}\n", "no service_description"),
        ("hoststatus {\n\thost_name=a\n\tjunk\n\t}\n", "key=value"),
        ('{"results": 3}', "results"),
        ('{"results": [1]}', "attrs"),
        ('{"results": [{"attrs": {"state": 0}}]}', "no name"),
        ('{"results": [{"attrs": {"state": 0}, "type": "Service"}]}', "no host"),
        ('{"results": [{"attrs": {"name": "h", "state": "x"}}]}', "not one of"),
        ('{"results": [', "not valid JSON"),
        ("\x00\x01binary", "binary"),
    ],
)
def test_bad_input_is_an_extract_error(body, words):
    assert words in assert_clean_failure(Nagios, body)


def test_truncated_and_huge():
    assert "truncated" in assert_clean_failure(Nagios, STATUS_DAT[: len(STATUS_DAT) // 2])
    assert_clean_failure(Nagios, ICINGA[: len(ICINGA) // 2])
    assert "MB" in assert_clean_failure(Nagios, huge_input(b"hoststatus {"))


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="hoststatus{}=\n\t_name0123 servicecurrent_", max_size=400))
def test_random_status_files_never_escape(text):
    result_or_extract_error(Nagios, text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=1000))
def test_random_bytes_never_escape(body):
    result_or_extract_error(Nagios, body)
    result_or_extract_error(Nagios, body, format="icinga")


# -- Icinga 2 answers with joins, as in Icinga's own API documentation -------------------------


def test_icinga_services_with_joined_hosts():
    # doc/12-icinga2-api.md: unhandled problems, attrs name/state, joins host.name/host.address
    result = run(Nagios, data("icinga_joins_unhandled.json"))
    assert result.tables[0].rows[0][:3] == ("10807-host", "10807-service", "UNKNOWN")
    assert result.status is Status.NEUTRAL
    assert result.details["services"] == 1 and result.details["hosts"] == 0


def test_the_host_of_a_service_from_its_object_name():
    body = {
        "results": [
            {"attrs": {"state": 2.0}, "joins": {}, "name": "wn0042!cvmfs", "type": "Service"}
        ]
    }
    result = run(Nagios, json.dumps(body))
    assert result.tables[0].rows[0][:3] == ("wn0042", "cvmfs", "CRITICAL")


def test_a_joined_query_without_state_names_what_to_ask_for():
    # the documentation's first joins example asks for display_name and check_command only
    words = assert_clean_failure(Nagios, data("icinga_joins_no_state.json"))
    assert "example.localdomain/ping4 has no state" in words and "attrs=state" in words


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"results": [{"attrs": {"author": "a"}, "type": "Comment"}]}, "found a Comment object"),
        ({"status": "ok"}, "found an object with keys status"),
    ],
)
def test_objects_that_are_no_hosts_or_services_are_a_format_error(body, words):
    with pytest.raises(FormatError, match=words):
        run(Nagios, json.dumps(body))


def test_nothing_to_watch_is_an_error_not_all_fine():
    assert "lists no host or service" in assert_clean_failure(Nagios, '{"results": []}')
    words = assert_clean_failure(Nagios, STATUS_DAT, hosts="^no-such-host$")
    assert "matches the `hosts` and `services` filters" in words
