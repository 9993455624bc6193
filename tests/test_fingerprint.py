"""The structural fingerprint: what counts as the same format, and what as a lost part."""

from __future__ import annotations

import json

from happyface.acquisition.quality.fingerprint import appeared_paths, fingerprint, lost_paths


def fp(document: object) -> dict[str, str]:
    found = fingerprint(json.dumps(document).encode())
    assert found is not None
    return found


def test_arrays_collapse_and_an_emptied_array_loses_nothing() -> None:
    busy = fp({"jobs": [{"id": 1, "state": "R"}, {"id": 2, "state": "PD", "reason": None}]})
    assert busy["$.jobs[].id"] == "number"
    assert busy["$.jobs[].reason"] == "null"
    idle = fp({"jobs": []})
    assert lost_paths(busy, idle) == []  # a queue with no jobs is not a new format


def test_a_field_gone_or_of_another_type_is_lost_and_a_new_one_appears() -> None:
    before = fp({"jobs": [{"id": 1, "state": "R"}]})
    after = fp({"jobs": [{"id": "1", "status": "R"}]})
    assert lost_paths(before, after) == ["$.jobs[].id: number", "$.jobs[].state"]
    assert appeared_paths(before, after) == ["$.jobs[].status"]
    # null stands for a missing value, not a type
    assert lost_paths(fp({"a": {"b": 1}}), fp({"a": {"b": None}})) == []


def test_dicts_keyed_by_names_collapse_so_a_new_pool_is_no_new_format() -> None:
    two = fp({"pools": {"pool-a": {"free": 1}, "pool-b": {"free": 2}}})
    three = fp({"pools": {"pool-c": {"free": 1}, "pool-d": {"free": 2}, "pool-e": {"free": 3}}})
    assert two == three
    assert "$.pools.*.free" in two
    metrics = {f"node-{i:02}": float(i) for i in range(10)}
    assert fp({"load": metrics}) == fp({"load": {"node-99": 1.0, **metrics}})
    # a record of many string fields keeps its field names
    record = {name: "x" for name in ("user", "queue", "state", "host", "site", "vo", "dn", "ce")}
    assert "$.job.state" in fp({"job": record})


def test_xml_elements_and_attributes_without_namespaces() -> None:
    found = fingerprint(b'<info xmlns="http://dcache.org/2"><pools><pool name="p"/></pools></info>')
    assert found == {
        "/info": "element",
        "/info/pools": "element",
        "/info/pools/pool": "element",
        "/info/pools/pool/@name": "attribute",
    }


def test_neither_json_nor_xml_has_no_fingerprint() -> None:
    assert fingerprint(b"hosts 3 up") is None
    assert fingerprint(b"{not json") is None
    assert fingerprint(b"<a><b></a>") is None
    assert fingerprint(b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>') is None


def test_another_kind_of_document_is_not_a_changed_format() -> None:
    json_document = fp({"jobs": [{"id": 1}]})
    html = fingerprint(b"<html><body>502 Bad Gateway</body></html>")
    assert html is not None
    assert lost_paths(json_document, html) == []
