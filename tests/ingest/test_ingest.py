"""The ingest pipeline end to end: readers, CRS, checks, areas, and refusals that change nothing."""

import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from builders import dltb_frame, file_digest
from onemap.errors import InputError, ReadError
from onemap.geo.area import ellipsoidal_area
from onemap.ingest import ingest


def write_shp(gdf, path: Path, *, encoding="UTF-8", crs=True):
    pyogrio.write_dataframe(gdf, path, driver="ESRI Shapefile", encoding=encoding)
    if not crs:
        path.with_suffix(".prj").unlink()
    return path


def assert_unchanged(store, before_fp, before_digest):
    assert store.fingerprint() == before_fp
    assert file_digest(store.path) == before_digest


def refuse(store, path, rule, **kwargs):
    before_fp, before_digest = store.fingerprint(), file_digest(store.path)
    with pytest.raises(InputError) as info:
        ingest(store, str(path), dataset="DLTB", version="2024", **kwargs)
    err = info.value
    rules = {p.rule for p in err.problems} | {getattr(err, "rule", None)}
    text = str(err)
    assert rule in rules or rule in text, text
    assert_unchanged(store, before_fp, before_digest)
    return err


def test_geopackage_ingest_computes_official_areas(workspace, tmp_path):
    src = dltb_frame()
    path = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(src, path, layer="DLTB")
    result = ingest(workspace, str(path), dataset="DLTB", version="2024")
    assert result.version.feature_count == len(src)
    got = workspace.read("DLTB", "2024").sort_values("BSM").reset_index(drop=True)
    official = np.round(ellipsoidal_area(src.geometry.values), 2)
    np.testing.assert_allclose(got["TBMJ"], official, atol=0.005)
    kcmj = np.round(official * np.where(src["DLBM"].str.startswith("01"), 0.05, 0.0), 2)
    np.testing.assert_allclose(got["KCMJ"], kcmj, atol=0.005)
    np.testing.assert_allclose(got["TBDLMJ"], np.round(official - kcmj, 2), atol=0.005)
    assert result.report.by_rule("area_computed")
    v = workspace.version("DLTB", "2024")
    assert v.meta.source_file.endswith("dltb.gpkg") or "dltb" in v.meta.source_file
    assert len(v.meta.source_checksum) == 64
    assert v.meta.area_totals["TBMJ"] == pytest.approx(official.sum(), abs=0.05)


def test_gbk_shapefile_in_zone_prefixed_gauss_kruger(workspace, tmp_path):
    src = dltb_frame()
    gk = src.to_crs("EPSG:4523")  # CGCS2000 3° GK zone 35, easting with zone prefix
    assert gk.geometry.bounds["minx"].min() > 35_000_000
    path = write_shp(gk, tmp_path / "DLTB.shp", encoding="GBK")
    cpg = path.with_suffix(".cpg")
    if cpg.exists():
        cpg.unlink()  # a typical delivery: GBK attributes, no .cpg
    result = ingest(workspace, str(path), dataset="DLTB", version="2024")
    got = workspace.read("DLTB", "2024").sort_values("BSM").reset_index(drop=True)
    assert set(got["DLMC"]) == set(src["DLMC"])
    assert got["ZLDWMC"].iloc[0] == "金积镇金积村"
    assert "4523" in workspace.version("DLTB", "2024").meta.source_crs
    # Back in CGCS2000 lon/lat, where it started.
    np.testing.assert_allclose(got.total_bounds, src.total_bounds, atol=1e-7)
    assert result.version.feature_count == len(src)


def test_filegdb_and_zip_and_geojson(workspace, tmp_path):
    src = dltb_frame()
    gdb = tmp_path / "delivery.gdb"
    pyogrio.write_dataframe(src, gdb, layer="DLTB", driver="OpenFileGDB")
    pyogrio.write_dataframe(src.iloc[:2], gdb, layer="XZQ_other", driver="OpenFileGDB")
    ingest(workspace, str(gdb), dataset="DLTB", version="2022", layer="DLTB")
    assert len(workspace.read("DLTB", "2022")) == len(src)

    shp = write_shp(src, tmp_path / "z" / "DLTB.shp") if (tmp_path / "z").mkdir() is None else None
    zpath = tmp_path / "DLTB.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in shp.parent.iterdir():
            zf.write(f, f.name)
    ingest(workspace, str(zpath), dataset="DLTB", version="2023")
    assert len(workspace.read("DLTB", "2023")) == len(src)

    gj = tmp_path / "dltb.geojson"
    pyogrio.write_dataframe(src.to_crs(4326), gj, driver="GeoJSON")
    ingest(workspace, str(gj), dataset="DLTB", version="2024")
    assert len(workspace.read("DLTB", "2024")) == len(src)
    assert [v.version for v in workspace.datasets()[0].versions] == ["2022", "2023", "2024"]


def test_tbmj_mismatch_is_reported_not_changed(workspace, tmp_path):
    src = dltb_frame()
    src["TBMJ"] = np.round(ellipsoidal_area(src.geometry.values), 2)
    src.loc[2, "TBMJ"] = src.loc[2, "TBMJ"] + 500.0
    path = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(src, path, layer="DLTB")
    result = ingest(workspace, str(path), dataset="DLTB", version="2024")
    found = result.report.by_rule("tbmj_mismatch")
    assert [p.row for p in found] == [src.loc[2, "BSM"]]
    got = workspace.read("DLTB", "2024").set_index("BSM")
    assert got.loc[src.loc[2, "BSM"], "TBMJ"] == pytest.approx(src.loc[2, "TBMJ"])


def test_invalid_geometry_is_repaired_and_listed(workspace, tmp_path):
    src = dltb_frame()
    x0, y0, x1, y1 = src.geometry.iloc[1].bounds
    # A ring that touches itself: valid area, invalid topology (self-intersection at one point).
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    assert not bowtie.is_valid
    src.loc[1, "geometry"] = bowtie
    path = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(src, path, layer="DLTB")
    result = ingest(workspace, str(path), dataset="DLTB", version="2024")
    repaired = result.report.by_rule("repaired_geometry")
    assert [p.row for p in repaired] == [src.loc[1, "BSM"]]
    assert workspace.read("DLTB", "2024").geometry.is_valid.all()


# ----------------------------------------------------------------------------- refusals


def test_refuses_missing_required_field(workspace, tmp_path):
    src = dltb_frame().drop(columns=["ZLDWDM"])
    path = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(src, path, layer="DLTB")
    err = refuse(workspace, path, "required_field")
    assert any(p.field == "ZLDWDM" for p in err.problems)
    assert "dltb.gpkg" in str(err)


def test_refuses_empty_required_value_naming_the_row(workspace, tmp_path):
    src = dltb_frame()
    src.loc[3, "DLBM"] = ""
    path = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(src, path, layer="DLTB")
    err = refuse(workspace, path, "required_field")
    assert any(p.row == src.loc[3, "BSM"] and p.field == "DLBM" for p in err.problems)


def test_refuses_unknown_land_class_code(workspace, tmp_path):
    src = dltb_frame()
    src.loc[2, "DLBM"] = "0199"
    path = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(src, path, layer="DLTB")
    err = refuse(workspace, path, "unknown_dlbm")
    assert any(p.row == src.loc[2, "BSM"] and p.field == "DLBM" for p in err.problems)


def test_refuses_duplicate_bsm(workspace, tmp_path):
    src = dltb_frame()
    src.loc[4, "BSM"] = src.loc[1, "BSM"]
    path = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(src, path, layer="DLTB")
    err = refuse(workspace, path, "duplicate_bsm")
    assert any(p.row == src.loc[1, "BSM"] for p in err.problems)


def test_refuses_unknown_crs(workspace, tmp_path):
    gk = dltb_frame().to_crs("EPSG:4523")
    path = write_shp(gk, tmp_path / "DLTB.shp", crs=False)
    err = refuse(workspace, path, "unknown_crs")
    assert "--crs" in str(err)
    # With --crs it goes in.
    ingest(workspace, str(path), dataset="DLTB", version="2024", crs="EPSG:4523")
    assert len(workspace.read("DLTB", "2024")) == len(gk)


def test_refuses_wrong_geometry_type(workspace, tmp_path):
    src = dltb_frame()
    src["geometry"] = shapely.centroid(src.geometry.values)
    path = tmp_path / "points.gpkg"
    pyogrio.write_dataframe(src, path, layer="DLTB")
    refuse(workspace, path, "wrong_geometry_type")


def test_refuses_coordinates_outside_china(workspace, tmp_path):
    src = dltb_frame(lon0=2.35, lat0=48.85)  # Paris
    path = tmp_path / "paris.gpkg"
    pyogrio.write_dataframe(src, path, layer="DLTB")
    refuse(workspace, path, "outside_china")


def test_refuses_swapped_latitude_and_longitude(workspace, tmp_path):
    src = dltb_frame()
    src["geometry"] = shapely.transform(src.geometry.values, lambda xy: xy[:, ::-1])
    path = tmp_path / "swapped.gpkg"
    pyogrio.write_dataframe(src, path, layer="DLTB")
    refuse(workspace, path, "swapped_axes")


def test_refuses_unreadable_and_truncated_files(workspace, tmp_path):
    before_fp, before_digest = workspace.fingerprint(), file_digest(workspace.path)
    with pytest.raises(ReadError):
        ingest(workspace, str(tmp_path / "missing.shp"), dataset="DLTB", version="2024")
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"this is not a zip file")
    with pytest.raises(ReadError):
        ingest(workspace, str(garbage), dataset="DLTB", version="2024")
    path = write_shp(dltb_frame(), tmp_path / "DLTB.shp")
    shp = path.read_bytes()
    path.write_bytes(shp[: len(shp) // 2])
    with pytest.raises(ReadError) as info:
        ingest(workspace, str(path), dataset="DLTB", version="2024")
    assert "DLTB" in str(info.value)
    assert_unchanged(workspace, before_fp, before_digest)


def test_refuses_existing_version_without_writing(workspace, tmp_path):
    path = tmp_path / "dltb.gpkg"
    pyogrio.write_dataframe(dltb_frame(), path, layer="DLTB")
    ingest(workspace, str(path), dataset="DLTB", version="2024")
    before_fp, before_digest = workspace.fingerprint(), file_digest(workspace.path)
    from onemap.errors import WorkspaceError

    with pytest.raises(WorkspaceError):
        ingest(workspace, str(path), dataset="DLTB", version="2024")
    assert_unchanged(workspace, before_fp, before_digest)
