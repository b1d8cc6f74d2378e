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


SQUARE = [[106.2005, 37.9005], [106.2035, 37.9005], [106.2035, 37.9035],
          [106.2005, 37.9035], [106.2005, 37.9005]]


def test_check_result_carries_the_site_and_its_given_name(client, tokens):
    site = {"type": "Polygon", "coordinates": [SQUARE]}
    r = client.post("/api/check", json=site, params={"name": "滨河路地块"},
                    headers=auth(tokens["viewer"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "滨河路地块" and body["project_name"] == "滨河路地块"
    assert body["site_geometry"]["type"] == "Polygon"
    ring = body["site_geometry"]["coordinates"][0]
    assert sorted(map(tuple, ring[:-1])) == sorted(map(tuple, SQUARE[:-1]))
    import io

    import docx

    doc = client.get(body["report"], headers=auth(tokens["viewer"]))
    report = docx.Document(io.BytesIO(doc.content))
    assert any("滨河路地块" in p.text for p in report.paragraphs)
