"""Map helpers of the web UI: field dictionary, tile validators, TileJSON fields."""

from __future__ import annotations

from ._api_support import auth


def test_field_dictionary_names_codes(client, tokens):
    r = client.get("/api/fields/DLTB", headers=auth(tokens["viewer"]))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["dataset"] == "DLTB" and doc["title"] == "地类图斑"
    qsxz = doc["fields"]["QSXZ"]
    assert qsxz["title"] == "权属性质"
    assert qsxz["codes"]["20"] == "国有土地使用权"
    assert doc["fields"]["DLBM"]["codes"]["0101"] == "水田"
    assert doc["fields"]["TBDLMJ"] == {"title": "图斑地类面积"}


def test_field_dictionary_of_unknown_layer_is_empty(client, tokens):
    r = client.get("/api/fields/MYLAYER", headers=auth(tokens["viewer"]))
    assert r.status_code == 200
    assert r.json() == {"dataset": "MYLAYER", "title": "MYLAYER", "fields": {}}


def test_field_dictionary_needs_a_login(client):
    assert client.get("/api/fields/DLTB").status_code == 401
