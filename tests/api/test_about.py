"""``/api/about`` reports where every data file came from; OGC titles mark synthetic data."""

from __future__ import annotations

import onemap
from onemap.domain import sources

from ._api_support import auth


def test_about_lists_every_data_file_and_its_origin(client, tokens, workspace, monkeypatch):
    monkeypatch.delenv(sources.ENV_OVERRIDE_DIR, raising=False)
    assert client.get("/api/about").status_code == 401
    r = client.get("/api/about", headers=auth(tokens["viewer"]))
    assert r.status_code == 200
    body = r.json()
    assert body["version"] == onemap.__version__
    assert body["workspace"] == str(workspace)
    block = body["domain_files"]
    assert block["override_dir"] is None and block["ignored"] == []
    assert [(f["area"], f["name"], f["source"]) for f in block["files"]] == [
        (area, name, "shipped") for area, name in sources.shipped_names()]


def test_about_names_an_override_copy(client, tokens, monkeypatch, tmp_path):
    (tmp_path / "rules.yaml").write_text("version: 局规则-1\n", "utf-8")
    monkeypatch.setenv(sources.ENV_OVERRIDE_DIR, str(tmp_path))
    files = client.get("/api/about", headers=auth(tokens["viewer"])).json()["domain_files"]["files"]
    rules = next(f for f in files if f["name"] == "rules.yaml")
    assert (rules["source"], rules["path"], rules["version"]) == (
        "override", str(tmp_path / "rules.yaml"), "局规则-1")


def test_missing_override_folder_is_a_chinese_error(client, tokens, monkeypatch, tmp_path):
    monkeypatch.setenv(sources.ENV_OVERRIDE_DIR, str(tmp_path / "nope"))
    r = client.get("/api/about", headers=auth(tokens["viewer"]))
    assert r.status_code == 500  # a server configuration fault (onemap.api.errors.STATUS)
    assert r.json()["error"] == "DomainDataError"
    # the answer names the folder, never its server path (the server log has it)
    assert r.json()["message"] == "环境变量 ONEMAP_DOMAIN_DIR 指向的覆盖目录不存在：nope"


def test_ogc_title_of_synthetic_collection_says_so(client, tokens):
    doc = client.get("/ogc/collections/DLTB_2024", headers=auth(tokens["viewer"])).json()
    assert doc["title"] == "地类图斑 2024（模拟数据）"
    listed = client.get("/ogc/collections", headers=auth(tokens["viewer"])).json()["collections"]
    assert {c["id"]: c["title"] for c in listed}["XZQ_2024"] == "行政区 2024（模拟数据）"
