"""The one data-file resolver: override folder errors, and where every file came from."""

from __future__ import annotations

import hashlib

import pytest

from onemap.control.layers import load_check_layers
from onemap.control.rules import load_rules as load_site_rules
from onemap.domain import land_classes, sources
from onemap.errors import DomainDataError
from onemap.indicators.registry import load_registry
from onemap.monitor.rules import load_rules as load_judging_rules

#: Every loader that reads a data file through the resolver, one per area.
LOADERS = {
    "domain": land_classes,
    "control.rules": load_site_rules,
    "control.layers": load_check_layers,
    "monitor": load_judging_rules,
    "indicators": load_registry,
}


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    monkeypatch.delenv(sources.ENV_OVERRIDE_DIR, raising=False)


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_missing_override_folder_is_an_error_naming_the_path(loader, monkeypatch, tmp_path):
    missing = tmp_path / "局里的规则"
    monkeypatch.setenv(sources.ENV_OVERRIDE_DIR, str(missing))
    with pytest.raises(DomainDataError) as info:
        loader()
    assert info.value.message == f"环境变量 ONEMAP_DOMAIN_DIR 指向的覆盖目录不存在：{missing}"
    assert info.value.problems[0].file == str(missing)


@pytest.mark.parametrize("loader", LOADERS.values(), ids=LOADERS.keys())
def test_override_that_is_a_file_is_an_error_naming_the_path(loader, monkeypatch, tmp_path):
    not_a_folder = tmp_path / "rules.yaml"
    not_a_folder.write_text("version: x\n", "utf-8")
    monkeypatch.setenv(sources.ENV_OVERRIDE_DIR, str(not_a_folder))
    with pytest.raises(DomainDataError) as info:
        loader()
    assert info.value.message == f"环境变量 ONEMAP_DOMAIN_DIR 指向的不是目录：{not_a_folder}"


def test_every_shipped_file_is_reported_as_shipped():
    files = sources.data_files()
    assert [(f.area, f.name) for f in files] == sources.shipped_names()
    assert {f.source for f in files} == {"shipped"}
    by_name = {f.name: f for f in files}
    rules = by_name["rules.yaml"]
    assert rules.area == "control"
    assert rules.path == str(sources.SHIPPED_DIRS["control"] / "rules.yaml")
    assert rules.sha256 == hashlib.sha256((sources.SHIPPED_DIRS["control"]
                                           / "rules.yaml").read_bytes()).hexdigest()
    # the areas and a file of each
    assert {"landclass_sandiao.csv", "check_layers.yaml", "judging_rules.yaml",
            "indicators.yaml"} <= set(by_name)
    # one name, one file: the override folder is flat, so names must not repeat across areas
    names = [name for _, name in sources.shipped_names()]
    assert len(names) == len(set(names))


def test_override_copy_is_reported_with_its_path_version_and_checksum(monkeypatch, tmp_path):
    text = "version: 局2025-01\nrules: []\n"
    (tmp_path / "judging_rules.yaml").write_text(text, "utf-8")
    (tmp_path / "judging_rule.yaml").write_text(text, "utf-8")  # misspelled: replaces nothing
    monkeypatch.setenv(sources.ENV_OVERRIDE_DIR, str(tmp_path))
    block = sources.describe()
    assert block["override_dir"] == str(tmp_path)
    over = [f for f in block["files"] if f["source"] == "override"]
    assert over == [{
        "area": "monitor", "name": "judging_rules.yaml", "source": "override",
        "path": str(tmp_path / "judging_rules.yaml"), "version": "局2025-01",
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }]
    assert block["ignored"] == [str(tmp_path / "judging_rule.yaml")]
    assert sources.resolve("monitor", "case_flow.yaml") == sources.SHIPPED_DIRS["monitor"] / "case_flow.yaml"


def test_explicit_file_must_exist(tmp_path):
    with pytest.raises(DomainDataError) as info:
        sources.resolve("control", "rules.yaml", tmp_path / "nope.yaml")
    assert info.value.message == f"找不到文件：{tmp_path / 'nope.yaml'}"
    assert sources.origin(sources.SHIPPED_DIRS["domain"] / "layers.yaml") == "shipped"
    mine = tmp_path / "mine.yaml"
    mine.write_text("version: 1\n", "utf-8")
    assert sources.resolve("control", "rules.yaml", mine) == mine
    assert sources.origin(mine) == "file"


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("a.yaml", "# 说明\nversion: \"2023-11\"  # 自然资源部\nitems: []\n", "2023-11"),
    ("a.yaml", "items:\n  version: 3\n", ""),
    ("a.csv", "\ufeff# 来源：GB/T 21010\n# version: 2017,,\nDLBM,DLMC\n", "2017"),
    ("a.csv", "DLBM,DLMC\n", ""),
])
def test_declared_version(name, text, expected):
    assert sources.declared_version(name, text.encode()) == expected
