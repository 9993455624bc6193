"""The `dataset_consistency` module type: catalogue against storage dump."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import ExtractError, Status
from happyface.modules.dataset_consistency import DatasetConsistency
from happyface.modules.datasetformats import normalise_checksum
from happyface.plugins import Registry
from happyface.rules import rate
from tests.fixtures.modules import NOW, data, raw

DUMP = data("storage_dump.txt")
CATALOGUE = data("catalogue.json")
GRIDKA = {"lfn_prefix": "/store/", "pfn_prefix": "/pnfs/gridka.de/cms/disk-only/store/"}


def check(storage: bytes | str = DUMP, catalogue: bytes | str = CATALOGUE, **settings_: object):
    module = DatasetConsistency(DatasetConsistency.Settings(**(GRIDKA | settings_)), {})
    return module.extract({"storage": raw(storage), "catalogue": raw(catalogue)}, NOW)


def failure(storage: bytes | str = DUMP, catalogue: bytes | str = CATALOGUE, **settings_) -> str:
    with pytest.raises(ExtractError) as caught:
        check(storage, catalogue, **settings_)
    assert str(caught.value)
    return str(caught.value)


def test_registered_through_the_entry_point_with_two_sources():
    assert Registry().get("dataset_consistency") is DatasetConsistency
    assert DatasetConsistency.source_names == ("storage", "catalogue")


def test_counts_per_dataset_worst_first():
    result = check()
    table = result.tables[0]
    rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    assert [r["dataset"].split("/")[1] for r in rows] == [
        "ZeroBias",
        "TTToSemiLeptonic_TuneCP5_13p6TeV-powheg",
        "SingleMuon",
    ]
    assert rows[0]["files"] == 2 and rows[0]["present"] == 1 and rows[0]["complete %"] == 50
    assert rows[1]["size mismatch"] == 1 and rows[1]["checksum mismatch"] == 1
    assert rows[2]["complete %"] == 100  # "c1d2e3f" equals "0c1d2e3f", "5E6F7A8B" "5e6f7a8b"


def test_totals_space_and_replicas():
    m = check().metrics
    assert m["files.expected"] == 9 and m["files.present"] == 7 and m["files.missing"] == 2
    assert m["files.corrupt"] == 2 and m["datasets.incomplete"] == 2
    assert m["completeness"] == pytest.approx(700 / 9) and m["completeness.min"] == 50
    assert m["storage.files"] == 10 and m["storage.replicas"] == 11  # one file on two pools
    # the second replica's space counts; the tape file outside the prefix counts as space too
    assert m["storage.bytes"] == sum(int(line.split()[1]) for line in _lines(DUMP))


def test_orphans_only_within_the_prefix_largest_first():
    result = check()
    orphans = result.tables[2]
    assert result.metrics["orphans.files"] == 2
    assert result.metrics["orphans.bytes"] == 1048576000 + 52428800
    assert orphans.rows[0][0].endswith("tmp_0017.root") and "2 of 2" in orphans.title
    everything = check(lfn_prefix="", pfn_prefix="")  # no mapping: nothing is found at all
    assert everything.metrics["files.present"] == 0 and everything.metrics["orphans.files"] == 10


def test_mismatches_table():
    rows = check().tables[1].rows
    assert {(r[2], r[3]) for r in rows} == {(2013265920, 1073741824), (1879048192, 1879048192)}
    assert check(compare_checksums=False).metrics["files.corrupt"] == 1


def test_default_rules_rate_it():
    status, message = rate(check(), DatasetConsistency.default_rules)
    assert status is Status.UNHAPPY and "only 50.0 % on storage" in message
    complete = json.dumps({"datasets": [json.loads(CATALOGUE)["datasets"][0]]})
    assert rate(check(catalogue=complete), DatasetConsistency.default_rules)[0] is Status.HAPPY


def test_json_storage_dump_and_lists_of_files():
    files = [line.split() for line in _lines(DUMP)]
    as_objects = [{"path": f[0], "size": int(f[1]), "adler32": f[2], "pool": f[3]} for f in files]
    as_lists = [[f[0], f[1], f[2]] for f in files]
    expected = dict(check().metrics)
    assert dict(check(json.dumps(as_objects)).metrics) == expected
    assert dict(check(json.dumps({"files": as_lists})).metrics) == expected
    catalogue_list = json.dumps(json.loads(CATALOGUE)["datasets"])
    assert dict(check(catalogue=catalogue_list).metrics) == expected


def test_large_tables_are_capped_with_counts():
    lines = [f"/pnfs/gridka.de/cms/disk-only/store/x/{n}.root {n} -" for n in range(1000)]
    datasets = [{"dataset": f"/D{n}/x/AOD", "files": []} for n in range(600)]
    result = check("\n".join(lines), json.dumps({"datasets": datasets}))
    assert len(result.tables[0].rows) == 500 and "of 600" in result.tables[0].title
    assert len(result.tables[2].rows) == 200 and "200 of 1000" in result.tables[2].title
    assert result.tables[2].rows[0] == ("/pnfs/gridka.de/cms/disk-only/store/x/999.root", 999)


@pytest.mark.parametrize(
    ("value", "normal"), [("0A1B2C3D", "a1b2c3d"), ("adler32:00ff", "ff"), ("-", ""), (None, "")]
)
def test_checksums_are_normalised(value, normal):
    assert normalise_checksum(value) == normal


@pytest.mark.parametrize(
    ("storage", "words"),
    [
        ("", "'storage' is empty"),
        ("/a/b 12 ab pool extra", "expected `path size"),
        ("/a/b twelve ab", "not a whole number"),
        ("/a/b -5 ab", "negative"),
        ("\x00\x01\x02", "binary"),
        ('{"files": 3}', "neither a list"),
        ("[[1, 2]]", "path is missing"),
        ('[{"path": "/a", "size": true}]', "not a whole number"),
        ("[1]", "is not a file"),
        ('[{"path": "/a", "size": 1', "not valid JSON"),
    ],
)
def test_bad_storage_dumps(storage, words):
    assert words in failure(storage=storage)


@pytest.mark.parametrize(
    ("catalogue", "words"),
    [
        ("", "'catalogue' is empty"),
        ("garbage", "not valid JSON"),
        ('{"datasets": 1}', "neither"),
        ('{"datasets": []}', "no dataset"),
        ('[{"dataset": "/a/b/c"}]', '"files"'),
        ('[{"files": []}]', "dataset name"),
        ('[{"dataset": "/a", "files": [7]}]', "not an object"),
        ('[{"dataset": "/a", "files": [{"lfn": "/x", "size": "big"}]}]', "not a whole number"),
        ('[{"dataset": "/a", "files": [{"size": 1}]}]', "logical file name"),
    ],
)
def test_bad_catalogues(catalogue, words):
    assert words in failure(catalogue=catalogue)


def test_truncated_and_huge_inputs():
    assert "not valid JSON" in failure(catalogue=CATALOGUE[: len(CATALOGUE) // 2])
    # a text dump cut at a line end cannot be told from a short one; cut inside a path, the
    # half line has no size
    cut = DUMP[: DUMP.index(b"0a1f2c3e")]
    assert "expected `path size" in failure(storage=cut)
    assert "MB" in failure(storage=b"/a 1 x\n" * (1024 * 1024 // 7 + 1), max_input_mb=1)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=500), st.binary(max_size=500))
def test_random_inputs_never_escape(storage, catalogue):
    try:
        check(storage, catalogue)
    except ExtractError as exc:
        assert str(exc)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="/ab 0123456789-x\n#", max_size=300))
def test_random_dumps_never_escape(storage):
    try:
        check(storage)
    except ExtractError as exc:
        assert str(exc)


def _lines(body: bytes) -> list[str]:
    return [line for line in body.decode().splitlines() if line and not line.startswith("#")]
