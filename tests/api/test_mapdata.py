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


def _dltb_version(client, h) -> int:
    v = client.get("/api/catalog", headers=h).json()["datasets"]
    return next(d for d in v if d["name"] == "DLTB")["versions"][0]["id"]


def test_tiles_have_validators_and_answer_304(client, tokens):
    from onemap.tiles.service import lonlat_to_tile

    h = auth(tokens["viewer"])
    vid = _dltb_version(client, h)
    x, y = lonlat_to_tile(106.201, 37.901, 14)
    url = f"/tiles/{vid}/14/{x}/{y}.mvt"
    plain = client.get(url, headers={**h, "Accept-Encoding": "identity"})
    packed = client.get(url, headers={**h, "Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    tag = plain.headers["etag"]
    assert tag.startswith(f'"v{vid}-') and tag.endswith(f'-14-{x}-{y}"')
    assert packed.headers["etag"] == tag[:-1] + '-gz"'  # the gzip bytes get their own tag
    assert plain.headers["last-modified"].endswith(" GMT")
    again = client.get(url, headers={**h, "Accept-Encoding": "identity", "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other = client.get(f"/tiles/{vid}/14/{x + 1}/{y}.mvt",
                       headers={**h, "Accept-Encoding": "identity", "If-None-Match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag


def test_tilejson_lists_the_tile_fields(client, tokens):
    h = auth(tokens["viewer"])
    vid = _dltb_version(client, h)
    layer = client.get(f"/tiles/{vid}.json", headers=h).json()["vector_layers"][0]
    # the attributes with few distinct values (make_dltb: 36 BSM, 4 classes, 2 units);
    # the float areas are not carried
    assert layer["fields"] == {"BSM": "String", "DLBM": "String", "DLMC": "String",
                               "ZLDWDM": "String"}
