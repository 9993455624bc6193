"""The `jobs` type on finished jobs (sacct --json, condor_history -json) and format refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from happyface import Rule, Status
from happyface.errors import FormatError
from happyface.modules.jobs import Jobs
from tests.fixtures.modules import data, rated, run


def jobs_table(result: Any) -> dict[str, dict[str, Any]]:
    table = result.tables[1]
    return {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}


def format_error(content: bytes | str, **settings: Any) -> str:
    with pytest.raises(FormatError) as caught:
        run(Jobs, content, **settings)
    return str(caught.value)


# -- Slurm accounting -------------------------------------------------------------------------


def test_sacct_is_read_as_accounting_not_as_a_queue():
    result = run(Jobs, data("sacct.json"))
    assert result.details["format"] == "slurm_accounting"
    m = result.metrics
    # only jobs still in the system count in `all`: cms running, atlas held, lhcb pending
    assert (m["total.all"], m["cms.running"], m["atlas.held"], m["lhcb.pending"]) == (3, 1, 1, 1)
    assert (m["total.finished"], m["total.failed"], m["total.failed_fraction"]) == (5, 2, 0.4)
    assert (m["atlas.failed"], m["atlas.failed_fraction"]) == (2, 1.0)  # FAILED and TIMEOUT
    assert "5 finished, 2 failed" in result.message


def test_sacct_cpu_efficiency_is_total_cpu_over_elapsed_times_allocated_cpus():
    result = run(Jobs, data("sacct.json"))
    rows = jobs_table(result)
    assert rows["9002001"]["cpu efficiency %"] == pytest.approx(86.8, abs=0.05)  # 50000 s, 8×2 h
    assert rows["9002002"]["inefficient"] is True  # 1200 s of CPU in 8 × 1 h
    assert rows["9002005"]["cpu efficiency %"] is None  # running: TotalCPU counts ended steps
    assert rows["9002007"]["inefficient"] is False  # 60 s: too short to judge
    assert rows["9002008"]["state"] == "held"  # PENDING, REQUEUED with reason JobHeldUser
    # cms: 1 of 3 judged jobs (one running, two finished) is inefficient
    assert result.metrics["cms.inefficient_fraction"] == pytest.approx(1 / 3)


def test_sacct_groups_are_rated_on_finished_jobs():
    status, message = rated(Jobs, data("sacct.json"), min_jobs=2)
    assert status is Status.NEUTRAL
    assert "cms: 0.333 of the running jobs are inefficient, the limit is 0.3" in message


def test_sacct_of_older_data_parsers_names_the_state_as_text():
    answer = json.loads(data("sacct.json"))
    for job in answer["jobs"]:
        job["state"]["current"] = job["state"]["current"][0]  # v0.0.39 and v0.0.40
        job["tres"]["allocated"] = []  # fall back to the required CPUs
    result = run(Jobs, json.dumps(answer))
    assert result.metrics["total.failed"] == 2
    assert jobs_table(result)["9002001"]["cpu efficiency %"] == pytest.approx(86.8, abs=0.05)


def test_a_queue_no_longer_counts_the_finished_jobs_slurmrestd_still_lists():
    answer = json.loads(data("squeue.json"))
    before = run(Jobs, json.dumps(answer)).metrics
    done = {**answer["jobs"][0], "job_id": 9001299, "job_state": ["COMPLETED"]}
    answer["jobs"] += [done, {**done, "job_id": 9001298, "job_state": ["CANCELLED"]}]
    after = run(Jobs, json.dumps(answer))
    assert after.metrics["cms.all"] == before["cms.all"]
    assert after.metrics["total.all"] == before["total.all"]
    assert "cms.finished" not in after.metrics  # a queue's finished jobs are no accounting
    assert jobs_table(after)["9001299"]["state"] == "finished"


def test_completing_jobs_still_count_as_squeue_shows_them():
    answer = json.loads(data("squeue.json"))
    answer["jobs"][0]["job_state"] = ["COMPLETING"]
    before = run(Jobs, data("squeue.json")).metrics
    assert run(Jobs, json.dumps(answer)).metrics["total.all"] == before["total.all"]


@pytest.mark.parametrize(
    ("sample", "fmt", "words"),
    [
        ("sacct.json", "slurm", 'accounting jobs (state, time); sacct --json output is read with format = "slurm_accounting"'),  # noqa: E501
        ("squeue.json", "slurm_accounting", "found Slurm queue jobs (job_state)"),
        ("condor_history.json", "condor", 'read with format = "condor_history"'),
        ("condor_q.json", "condor_history", "found job 812345.0 with JobStatus 2"),
        ("squeue.json", "condor", "expected condor_q -json output"),
    ],
)  # fmt: skip
def test_a_document_of_another_format_than_claimed_is_refused(sample, fmt, words):
    assert words in format_error(data(sample), format=fmt)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"jobs": [{"job_id": 1, "user_name": "u"}]}, "a job without job_state"),
        ({"jobs": [{"job_id": 1, "state": {"current": ["COMPLETED"]}}]}, "a job without time"),
        ({"meta": {}, "errors": []}, 'an object with a "jobs" list'),
        ([{"Owner": "u", "JobStatus": 2}], "a job without ClusterId"),
        ([{"id": 1, "status": "ok"}], "with ClusterId, JobStatus"),
    ],
)
def test_jobs_without_the_fields_of_their_format_are_refused(body, words):
    assert words in format_error(json.dumps(body))


def test_jobinfo_without_jobs_or_summaries_is_refused():
    body = "<jobinfo><header><date>1717243200</date></header></jobinfo>"
    assert "with <jobs> or <summaries>, found neither" in format_error(body)
    # an empty batch system is no error
    empty = "<jobinfo><header><date>1717243200</date></header><jobs group='cms'/></jobinfo>"
    assert run(Jobs, empty).metrics["total.all"] == 0


# -- HTCondor history -------------------------------------------------------------------------


def test_condor_history_is_read_as_finished_jobs():
    result = run(Jobs, data("condor_history.json"))
    assert result.details["format"] == "condor_history"
    m = result.metrics
    assert (m["total.all"], m["total.finished"], m["total.failed"]) == (0, 6, 3)
    # atlas: one exited with code 1, one removed; lhcb: killed by a signal
    assert (m["atlas.failed"], m["lhcb.failed"], m["cms.failed"]) == (2, 1, 0)
    assert m["cms.prod.inefficient"] == 1  # 300 s of CPU in 4 × 1 h


def test_condor_history_efficiency_leaves_evicted_attempts_out():
    rows = jobs_table(run(Jobs, data("condor_history.json")))
    # 5500 s of CPU in 6000 s committed; the 10000 s wall clock includes an evicted attempt
    assert rows["913006.0"]["cpu efficiency %"] == pytest.approx(91.7, abs=0.05)
    assert rows["913001.0"]["host"] == "f02-110-031.gridka.example"
    assert rows["913001.0"]["state"] == "finished"


def test_condor_history_rates_inefficient_finished_jobs():
    stricter = Rule(metric="rated.*.inefficient_fraction", warning=0.3, critical=0.4)
    status, message = rated(
        Jobs, data("condor_history.json"), min_jobs=2, groups=["cms.prod"], rules=(stricter,)
    )
    assert status is Status.UNHAPPY
    assert "rated.cms.prod.inefficient_fraction is 0.5, above the limit of 0.4" in message
