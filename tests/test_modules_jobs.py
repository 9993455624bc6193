"""The `jobs` module type: jobinfo XML, condor_q -json and squeue --json, counting and rating."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import Rule, Status
from happyface.modules.condorformats import condor_group
from happyface.modules.jobformats import duration
from happyface.modules.jobs import MAX_JOB_ROWS, Jobs
from happyface.plugins import Registry
from tests.fixtures.modules import (
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    NOW,
    assert_clean_failure,
    data,
    hostile_xml,
    huge_input,
    rated,
    result_or_extract_error,
    run,
)


def test_registered_through_the_entry_point():
    assert Registry().get("jobs") is Jobs


def test_xml_groups_come_from_the_summaries_as_a_tree():
    result = run(Jobs, data("jobs_gridka.xml"))
    assert result.metrics["cms.all"] == 1520
    assert result.metrics["cmsprd.running"] == 1005
    assert result.metrics["atlas.inefficient"] == 1020
    assert result.metrics["total.all"] == 1520 + 2310 + 610 + 4  # top-level groups only
    tree = {node["group"]: node for node in result.details["tree"]}
    assert [c["group"] for c in tree["cms"]["children"]] == ["cmsprd", "cmsuser"]
    assert tree["ops"]["children"] == []


def test_xml_rates_the_fraction_of_inefficient_running_jobs():
    status, message = rated(Jobs, data("jobs_gridka.xml"))
    assert status is Status.UNHAPPY  # atlas: 54 % of running jobs below 10 %
    assert "atlas: 0.537 of the running jobs are inefficient, the limit is 0.5" in message


def test_only_configured_groups_are_rated():
    result = run(Jobs, data("jobs_gridka.xml"), groups=["cms", "lhcb"])
    assert {k for k in result.metrics if k.startswith("rated.")} == {
        "rated.cms.inefficient_fraction",
        "rated.lhcb.inefficient_fraction",
    }
    assert rated(Jobs, data("jobs_gridka.xml"), groups=["cms", "lhcb"])[0] is Status.HAPPY
    strict = Rule(metric="rated.*.inefficient_fraction", warning=0.05, critical=0.9)
    neutral = rated(Jobs, data("jobs_gridka.xml"), groups=["cms"], rules=(strict,))
    assert neutral[0] is Status.NEUTRAL


def test_min_jobs_keeps_small_groups_unrated():
    # ops has 3 of 3 running jobs inefficient, but 3 jobs say nothing
    assert rated(Jobs, data("jobs_gridka.xml"), groups=["ops"])[0] is Status.HAPPY
    small = rated(Jobs, data("jobs_gridka.xml"), groups=["ops"], min_jobs=1)
    assert small[0] is Status.UNHAPPY


def test_stale_input_is_unhappy():
    later = NOW + timedelta(hours=5)
    status, message = rated(Jobs, data("jobs_gridka.xml"), now=later, groups=["cms"])
    assert status is Status.UNHAPPY
    assert "the input is 6 h old (more than 2 h)" in message  # made an hour before NOW
    efficiency_only = Rule(metric="rated.*.inefficient_fraction", warning=0.3, critical=0.5)
    unchecked = rated(
        Jobs,
        data("jobs_gridka.xml"),
        now=later,
        groups=["cms"],
        rules=(efficiency_only,),
        default_rules=False,
    )
    assert unchecked[0] is Status.HAPPY


def test_xml_job_table_flags_inefficient_jobs_first():
    jobs = run(Jobs, data("jobs_gridka.xml")).tables[1]
    assert jobs.name == "jobs"
    first = dict(zip(jobs.columns, jobs.rows[0], strict=True))
    assert first["id"] == "4711024.0" and first["inefficient"] is True
    by_id = {r[0]: dict(zip(jobs.columns, r, strict=True)) for r in jobs.rows}
    # started two minutes ago: too young to judge, though its CPU time is still zero
    assert by_id["4711025.0"]["inefficient"] is False
    # no cpueff given: computed from HH:MM:SS cpu time over D-HH:MM:SS wall time
    assert by_id["4711026.0"]["cpu efficiency %"] == 10.0
    assert by_id["4711028.0"]["state"] == "held"


def test_condor_counts_jobs_into_the_accounting_group_tree():
    result = run(Jobs, data("condor_q.json"))
    assert result.details["format"] == "condor"
    assert result.metrics["cms.all"] == 3
    assert result.metrics["cms.prod.running"] == 2
    assert result.metrics["cms.prod.inefficient"] == 1  # 420 s CPU in 4 h
    assert result.metrics["atlas.held"] == 1
    assert result.metrics["age_hours"] == pytest.approx(1.0)
    rows = {r[0]: r for r in result.tables[1].rows}
    assert rows["812345.0"][5] == pytest.approx(94.3, abs=0.1)  # 4 cores, 27160 s CPU in 2 h
    assert rows["812345.0"][6] == 6144  # ResidentSetSize is in KiB
    assert rows["812345.0"][7] == "f02-110-031.gridka.example"  # the slot is dropped


def test_condor_group_names():
    assert condor_group("group_cms.prod.alice", "alice") == "cms.prod"
    assert condor_group("group_lhcb", "pilot") == "lhcb"
    assert condor_group("", "bob") == "ungrouped"


def test_slurm_states_and_unknown_efficiency():
    result = run(Jobs, data("squeue.json"))
    assert result.details["format"] == "slurm"
    assert result.metrics["atlas.held"] == 1  # PENDING with reason JobHeldAdmin
    assert result.metrics["cms.running"] == 1
    # squeue reports no CPU time: no fraction is invented
    assert "cms.inefficient_fraction" not in result.metrics
    runtime = {r[0]: r[4] for r in result.tables[1].rows}
    assert runtime["9001201"] == 3.0


def test_the_job_table_is_capped():
    ads = [
        {
            "ClusterId": i,
            "ProcId": 0,
            "Owner": "u",
            "AccountingGroup": "group_cms",
            "JobStatus": 1,
            "ServerTime": 1717243200,
        }
        for i in range(MAX_JOB_ROWS + 10)
    ]
    result = run(Jobs, json.dumps(ads))
    assert len(result.tables[1].rows) == MAX_JOB_ROWS
    assert "5000 of 5010" in result.tables[1].title
    assert result.metrics["cms.pending"] == MAX_JOB_ROWS + 10


def test_the_capped_job_table_shares_its_rows_between_groups():
    """Ordered by group alone the first group would fill the cap and every other group's
    filtered page would list none of its jobs; each group gets its turn, inefficient first."""
    ads = [
        {
            "ClusterId": i,
            "ProcId": 0,
            "Owner": "u",
            "AccountingGroup": group,
            "JobStatus": 1,
            "ServerTime": 1717243200,
        }
        for group in ("group_atlas", "group_cms")
        for i in range(MAX_JOB_ROWS)
    ]
    rows = run(Jobs, json.dumps(ads)).tables[1].rows
    groups = [row[2] for row in rows]
    assert len(rows) == MAX_JOB_ROWS
    assert groups.count("atlas") == groups.count("cms") == MAX_JOB_ROWS // 2


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "hello world",
        "<jobinfo><header>",
        "[1, 2",
        '{"jobs": 5}',
        "[1, 2, 3]",
        "<html><body>Bad gateway</body></html>",
        "[" * 100_000,
    ],
)
def test_bad_input_is_an_extract_error(text):
    assert_clean_failure(Jobs, text)


def test_truncated_xml_names_the_problem():
    body = data("jobs_gridka.xml")
    assert "not well-formed XML" in assert_clean_failure(Jobs, body[: len(body) // 2])


def test_a_format_mismatch_is_explained():
    assert "neither XML nor JSON" in assert_clean_failure(Jobs, "id user state")
    assert "<jobinfo>" in assert_clean_failure(Jobs, "<rss><channel/></rss>")
    assert "a JSON list" in assert_clean_failure(Jobs, data("squeue.json"), format="condor")


def test_huge_input_is_refused():
    assert "MB" in assert_clean_failure(Jobs, huge_input(b"<jobinfo>"))


@pytest.mark.parametrize("template", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_hostile_xml_is_refused(template):
    assert "unsafe" in assert_clean_failure(Jobs, hostile_xml(template, "jobinfo"))


def test_durations():
    assert duration("90") == 90
    assert duration("01:30") == 90
    assert duration("2-00:00:10") == 2 * 86400 + 10
    assert duration("soon") is None


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_escape(body):
    result_or_extract_error(Jobs, body)


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda kids: (
            st.lists(kids, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "jobs",
                        "JobStatus",
                        "ServerTime",
                        "job_state",
                        "start_time",
                        "Owner",
                        "AccountingGroup",
                        "RemoteUserCpu",
                        "number",
                    ]
                ),
                kids,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_random_json_never_escapes(value):
    result_or_extract_error(Jobs, json.dumps(value))
