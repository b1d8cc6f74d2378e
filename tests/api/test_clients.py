"""Real OGC API – Features clients against a live server: GDAL (pyogrio) and OWSLib."""

from __future__ import annotations

import httpx
import pyogrio
import pytest

BBOX = (106.2, 37.9, 106.205, 37.905)  # lon/lat, the south-west corner patches


def test_landing_page_for_owslib(live_server):
    doc = httpx.get(f"{live_server}/ogc").json()
    desc = [lk for lk in doc["links"] if lk["rel"] == "service-desc"]
    assert desc[0]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    r = httpx.get(desc[0]["href"])
    assert r.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    assert r.json()["openapi"].startswith("3.0")


def test_gdal_reads_collection_bbox_and_attribute_filter(live_server):
    url = f"OAPIF:{live_server}/ogc/collections/DLTB_2024"
    everything = pyogrio.read_dataframe(url)
    assert len(everything) == 36
    assert {"DLBM", "DLMC", "BSM", "TBDLMJ"} <= set(everything.columns)
    lon, lat = everything.geometry.iloc[0].representative_point().coords[0]
    assert 106.1 < lon < 106.3 and 37.8 < lat < 38.0  # axis order right
    boxed = pyogrio.read_dataframe(url, bbox=BBOX)
    assert 0 < len(boxed) < 36
    only = pyogrio.read_dataframe(url, where="DLBM = '0101'")
    assert len(only) == (everything["DLBM"] == "0101").sum()
    assert set(only["DLBM"]) == {"0101"}
    both = pyogrio.read_dataframe(url, bbox=BBOX, where="DLBM = '0101'")
    assert 0 < len(both) <= len(boxed)


def test_gdal_lists_every_collection(live_server):
    layers = pyogrio.list_layers(f"OAPIF:{live_server}/ogc")
    assert "DLTB_2024" in {name for name, _ in layers}


def test_gdal_pages_with_next_links(live_server):
    # a page size of 5 forces GDAL to follow `next` links
    df = pyogrio.read_dataframe(f"OAPIF:{live_server}/ogc/collections/DLTB_2024",
                                PAGE_SIZE="5")
    assert len(df) == 36
    assert df["BSM"].is_unique


def test_owslib_lists_and_queries(live_server):
    from owslib.ogcapi.features import Features

    w = Features(live_server + "/ogc")
    assert w.api()["openapi"].startswith("3.0")
    assert "DLTB_2024" in w.feature_collections()
    everything = w.collection_items("DLTB_2024", limit=100)
    assert everything["numberMatched"] == 36 and everything["numberReturned"] == 36
    boxed = w.collection_items("DLTB_2024", bbox=list(BBOX), limit=100)
    assert 0 < boxed["numberMatched"] < 36
    assert boxed["numberReturned"] == len(boxed["features"])
    filtered = w.collection_items("DLTB_2024", DLBM="0101", limit=100)
    assert filtered["numberMatched"] > 0
    assert {f["properties"]["DLBM"] for f in filtered["features"]} == {"0101"}
    one = w.collection_item("DLTB_2024", str(filtered["features"][0]["id"]))
    assert one["properties"]["DLBM"] == "0101"
    with pytest.raises(RuntimeError):  # limit=0 is refused (HTTP 400)
        w.collection_items("DLTB_2024", limit=0)
