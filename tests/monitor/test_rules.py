"""The rule language and the shipped data files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from onemap.errors import DomainDataError
from onemap.monitor.classes import describe_codes, tblx_codes
from onemap.monitor.judge import load_approval_config
from onemap.monitor.rules import compile_condition, format_reason, load_rules

FACTS = pd.DataFrame({
    "a": [True, False, True, False],
    "x": [0.0, 0.5, 0.96, 1.0],
    "code": ["0101", "0601", "0702", "20"],
})


def _mask(spec, settings=None):
    m, used = compile_condition(spec, settings or {}, FACTS.columns)
    return list(m(FACTS)), used


def test_condition_operators():
    assert _mask({"a": True})[0] == [True, False, True, False]
    assert _mask({"x": {"gte": 0.5, "lt": 1.0}})[0] == [False, True, True, False]
    assert _mask({"code": {"in": ["0101", "20"]}})[0] == [True, False, False, True]
    assert _mask({"code": {"not_in": ["0101"]}})[0] == [False, True, True, True]
    assert _mask({"any": [{"a": True}, {"x": 1.0}]})[0] == [True, False, True, True]
    assert _mask({"not": {"a": True}})[0] == [False, True, False, True]
    assert _mask({"all": [{"a": True}, {"x": {"gt": "$t"}}]}, {"t": 0.9})[0] == [
        False, False, True, False]
    assert _mask({})[0] == [True] * 4
    assert _mask({"a": True, "x": {"ne": 0}})[1] == {"a", "x"}


@pytest.mark.parametrize("spec, message", [
    ({"nope": True}, "不认识的事实"),
    ({"x": {"about": 1}}, "不认识的比较"),
    ({"x": {"gt": "$missing"}}, "settings"),
    ({"any": []}, "非空列表"),
    ({"code": {"in": "0101"}}, "列表"),
])
def test_condition_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        compile_condition(spec, {}, FACTS.columns)


def _write(tmp_path, text):
    p = tmp_path / "judging_rules.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_rules_load_and_end_with_a_catch_all():
    rs = load_rules(facts=load_approval_config().fact_names())
    assert rs.rules[-1].when == {} and rs.version and len(rs.sha256) == 64
    assert len({r.id for r in rs.rules}) == len(rs.rules)
    assert rs.by_id("YN_OCCUPIED").priority == 1


@pytest.mark.parametrize("body, message", [
    ("rules:\n  - {id: A, name: a, verdict: 合法, when: {sfyn: true}, reason: x}\n",
     "最后一条规则"),
    ("rules:\n  - {id: A, name: a, verdict: 可能, when: {}, reason: x}\n", "verdict"),
    ("rules:\n  - {id: A, name: a, verdict: 其他, when: {bogus: 1}, reason: x}\n", "bogus"),
    ("rules:\n  - {id: A, name: a, verdict: 其他, when: {}, reason: '{bogus}'}\n", "理由"),
    ("rules:\n  - {id: A, name: a, verdict: 其他, when: {}, reason: x}\n"
     "  - {id: A, name: b, verdict: 其他, when: {}, reason: y}\n", "重复"),
    ("rules:\n  - {id: A, name: a, verdict: 疑似违法, suspect_area: 'outside:XX', when: {},"
     " reason: x}\n", "suspect_area"),
    ("rules: []\n", "非空"),
])
def test_bad_rule_files_are_refused_naming_the_rule(tmp_path, body, message):
    with pytest.raises(DomainDataError, match=message):
        load_rules(_write(tmp_path, body), facts=load_approval_config().fact_names())


def test_first_matching_rule_wins(tmp_path):
    p = _write(tmp_path, """
settings: {t: 0.9}
rules:
  - {id: HIGH, name: h, verdict: 疑似违法, priority: 1, when: {x: {gte: $t}}, reason: "x={x:.0%}"}
  - {id: A, name: a, verdict: 合法, when: {a: true}, reason: ok}
  - {id: REST, name: r, verdict: 其他, when: {}, reason: rest}
""")
    rs = load_rules(p, facts=FACTS.columns)
    chosen = rs.evaluate(FACTS)
    assert [rs.rules[i].id for i in chosen] == ["A", "REST", "HIGH", "HIGH"]
    assert format_reason(rs.rules[0].reason, {"x": 0.96}) == "x=96%"


def test_override_directory_replaces_the_shipped_file(tmp_path, monkeypatch):
    _write(tmp_path, "version: local\nrules:\n  - {id: ALL, name: a, verdict: 其他, when: {},"
                     " reason: r}\n")
    monkeypatch.setenv("ONEMAP_DOMAIN_DIR", str(tmp_path))
    assert load_rules().version == "local"


def test_code_descriptions():
    d = describe_codes(["0101", "0702", "1202", "0602", "", "9999"])
    assert list(d["paddy"]) == [True, False, False, False, False, False]
    assert list(d["construction"]) == [False, True, False, True, False, False]
    assert list(d["facility"]) == [False, False, True, False, False, False]
    assert list(d["homestead"]) == [False, True, False, False, False, False]
    t = describe_codes(["20", "GF", "01", "ND", "SS", "??"], "TBLX")
    assert list(t["construction"]) == [True, True, False, False, False, False]
    assert list(t["cultivated"]) == [False, False, True, False, False, False]
    assert list(t["agricultural"]) == [False, False, True, True, True, False]
    assert t["name"].tolist()[:2] == ["建/构筑物", "光伏"]
    assert "CK" in tblx_codes() and tblx_codes()["CK"].mining
    mixed = describe_codes(["0601", "20"], np.array(["DLBM", "TBLX"], dtype=object))
    assert mixed["construction"].all()


def test_approval_config_facts():
    cfg = load_approval_config()
    facts = cfg.fact_names()
    for x in ("NZYPC", "GD", "SSNYD", "LSYD", "ZJD", "NZYPC_GWY", "construction"):
        assert {f"cover_{x}", f"late_{x}", f"any_{x}", f"expired_{x}"} <= facts
    assert cfg.layers["LSYD"].expires_on == "ZZRQ"


def test_bad_approval_config_is_refused(tmp_path):
    p = tmp_path / "approval_layers.yaml"
    p.write_text("layers:\n  A: {title: a, id_field: ID}\ngroups:\n  g: {title: g, layers: [B]}\n",
                 encoding="utf-8")
    with pytest.raises(DomainDataError, match="未定义的图层 B"):
        load_approval_config(p)
