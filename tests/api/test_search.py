"""GET /api/search: place names, patches, typed coordinates (the workspace of conftest.py)."""

from __future__ import annotations

import pyproj
import pytest

from onemap.analysis.search import parse_gauss_kruger, parse_lonlat

from ._api_support import auth


def _search(client, tokens, q, user="viewer"):
    r = client.get("/api/search", params={"q": q}, headers=auth(tokens[user]))
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_place_by_name_and_code(client, tokens):
    hits = _search(client, tokens, "同心")
    assert [(h["kind"], h["title"], h["dataset"], h["fid"]) for h in hits] == [
        ("place", "同心县 640324", "XZQ", 2)]
    assert hits[0]["bbox"] == [106.206, 37.9, 106.212, 37.912]
    assert hits[0]["kind_title"] == "地名"
    assert _search(client, tokens, "640302")[0]["title"] == "利通区 640302"


def test_patch_by_bsm_is_exact(client, tokens):
    # make_dltb: BSM 64030{i:02d}{j:02d}, patch (i=1, j=2) is row 8 → feature id 9
    hits = _search(client, tokens, "640300102")
    assert [(h["kind"], h["fid"], h["collection"]) for h in hits] == [("patch", 9, "DLTB_2024")]
    assert hits[0]["bbox"] == pytest.approx([106.204, 37.902, 106.206, 37.904])
    assert _search(client, tokens, "64030010") == []  # part of a code is no hit


def test_coordinates_all_forms(client, tokens):
    lonlat = {"106.203 37.905": (106.203, 37.905), "37.905，106.203": (106.203, 37.905),
              "106°12′10.8″ 37°54′18″": (106.203, 37.905), "106度12分10.8秒, 37度54分18秒":
              (106.203, 37.905)}
    for text, want in lonlat.items():
        hits = _search(client, tokens, text)
        assert hits[0]["kind"] == "coordinate", text
        assert (hits[0]["lon"], hits[0]["lat"]) == pytest.approx(want, abs=1e-7), text
    # Gauss-Krüger: zone 35 (central meridian 105°E), with and without the zone prefix
    east, north = pyproj.Transformer.from_crs(4490, 4544, always_xy=True).transform(106.203, 37.905)
    for text in (f"{north:.3f} {east:.3f}", f"{east + 35_000_000:.3f},{north:.3f}"):
        hit = _search(client, tokens, text)[0]
        assert hit["kind"] == "coordinate" and hit["bbox"][0] == hit["bbox"][2]
        assert (hit["lon"], hit["lat"]) == pytest.approx((106.203, 37.905), abs=1e-6), text


def test_nothing_found_and_bad_query(client, tokens):
    assert _search(client, tokens, "不存在的地名") == []
    r = client.get("/api/search", params={"q": ""}, headers=auth(tokens["viewer"]))
    assert r.status_code in (400, 422)
    assert client.get("/api/search", params={"q": "同心"}).status_code == 401


def test_parsers_reject_what_is_not_a_point():
    assert parse_lonlat("106.2") is None
    assert parse_lonlat("10 20") is None  # not in China
    assert parse_lonlat("106°75′00″ 37°00′00″") is None  # 75 minutes
    assert parse_gauss_kruger("4202963.9 605731.7") is None  # no zone prefix, no default zone
    assert parse_gauss_kruger("4202963.9 99605731.7") is None  # no zone 99
    p = parse_gauss_kruger("605731.763 4202963.922", default_lon=106.2)  # Y X order
    assert p is not None and p.crs == "EPSG:4544"


def test_measure_uses_the_official_area(client, tokens):
    import shapely

    from onemap.geo.area import ellipsoidal_area

    ring = [[106.2, 37.9], [106.21, 37.9], [106.21, 37.91], [106.2, 37.91], [106.2, 37.9]]
    r = client.post("/api/measure", json={"type": "Polygon", "coordinates": [ring]},
                    headers=auth(tokens["viewer"]))
    assert r.status_code == 200, r.text
    got = r.json()
    area = float(ellipsoidal_area([shapely.Polygon(ring)])[0])
    assert got["area_m2"] == round(area, 2)
    assert got["area_ha"] == round(area / 10_000, 4) and got["area_mu"] == round(area * 0.0015, 2)
    line = client.post("/api/measure", json={"type": "LineString",
                                             "coordinates": [[106.0, 38.0], [106.0, 38.01]]},
                       headers=auth(tokens["viewer"])).json()
    assert line == {"type": "LineString", "length_m": 1109.97}
    bad = client.post("/api/measure", json={"type": "Point", "coordinates": [106, 38]},
                      headers=auth(tokens["viewer"]))
    assert bad.status_code == 400 and "线" in bad.json()["message"]
    bow = [[106.2, 37.9], [106.21, 37.91], [106.21, 37.9], [106.2, 37.91], [106.2, 37.9]]
    bad = client.post("/api/measure", json={"type": "Polygon", "coordinates": [bow]},
                      headers=auth(tokens["viewer"]))
    assert bad.status_code == 400 and "自相交" in bad.json()["message"]


def test_export_selection_xlsx_gpkg_and_gbk_shapefile(client, tokens, tmp_path):
    import io
    import zipfile

    import geopandas as gpd
    import openpyxl

    h = auth(tokens["viewer"])
    body = {"collection": "DLTB_2024", "ids": [9, 2], "format": "shp", "encoding": "GBK"}
    r = client.post("/api/export", json=body, headers=h)
    assert r.status_code == 200, r.text
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(z.namelist()) == ["DLTB_2024.cpg", "DLTB_2024.dbf", "DLTB_2024.prj",
                                    "DLTB_2024.shp", "DLTB_2024.shx"]
    assert z.read("DLTB_2024.cpg").decode().strip().upper() in ("GBK", "CP936")
    z.extractall(tmp_path)
    shp = gpd.read_file(tmp_path / "DLTB_2024.shp", encoding="GBK")
    # make_dltb: id 9 is (i=1, j=2) → BSM 640300102; id 2 is (0, 1) → 640300001
    assert list(shp["BSM"]) == ["640300102", "640300001"]
    item = client.get("/ogc/collections/DLTB_2024/items/9", headers=h).json()
    assert shp["DLMC"][0] == item["properties"]["DLMC"]
    assert item["properties"]["DLMC"].encode("gbk") in z.read("DLTB_2024.dbf")  # GBK bytes
    g = client.post("/api/export", json={**body, "format": "gpkg"}, headers=h)
    (tmp_path / "x.gpkg").write_bytes(g.content)
    assert list(gpd.read_file(tmp_path / "x.gpkg")["BSM"]) == ["640300102", "640300001"]
    x = client.post("/api/export", json={**body, "format": "xlsx"}, headers=h)
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    rows = list(ws.iter_rows(values_only=True))
    head = next(r for r in rows if r and r[0] == "要素编号")
    assert "标识码（BSM）" in head and "椭球面积（亩）" in head
    assert [r[0] for r in rows[rows.index(head) + 1:] if r and r[0] is not None] == [9, 2]
    bad = client.post("/api/export", json={**body, "ids": [999]}, headers=h)
    assert bad.status_code == 400 and "超出范围" in bad.json()["message"]
    bad = client.post("/api/export", json={**body, "format": "dwg"}, headers=h)
    assert bad.status_code == 400 and "不支持" in bad.json()["message"]
