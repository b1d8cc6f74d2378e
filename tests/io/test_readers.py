from __future__ import annotations

import hashlib
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from io_helpers import LAT0, LON0, parcels, shp_parts, write_shp, zip_files

from onemap.errors import ReadError
from onemap.geo.crs import detect_crs, to_storage
from onemap.io import list_layers, read_source


def rules(exc: pytest.ExceptionInfo) -> list[str]:
    return [p.rule for p in exc.value.problems]


def cut(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# --- shapefile encodings ------------------------------------------------------


def test_pyogrio_alone_gives_mojibake_for_gbk_without_cpg(gbk_prefixed_shp):
    # why the .dbf is scanned: GDAL assumes ISO-8859-1 and does not complain
    raw = pyogrio.read_dataframe(gbk_prefixed_shp)
    assert raw["DLMC"][0] != "水浇地"


def test_gbk_without_cpg_is_detected(gbk_prefixed_shp):
    src = read_source(gbk_prefixed_shp)
    assert src.encoding == "GB18030"
    assert src.gdf["DLMC"][0] == "水浇地"
    assert src.gdf["ZLDWMC"][0] == "利通区金积镇"
    assert "利通区" in src.gdf["ZLDWMC"][1]
    assert any("GB18030" in n for n in src.notes)
    assert src.file_name == "DLTB.shp"
    assert src.layer == "DLTB"
    assert src.path == str(gbk_prefixed_shp)
    assert list(src.gdf.columns) == ["BSM", "DLBM", "DLMC", "ZLDWMC", "TBMJ", "geometry"]
    assert src.gdf.geometry.name == "geometry"
    assert len(src.gdf) == 6
    assert src.crs is not None and src.crs.to_epsg() == 4544


def test_gbk_with_cpg(gbk_cpg_shp):
    src = read_source(gbk_cpg_shp)
    assert src.encoding == "GB18030"  # GBK read as its superset
    assert set(src.gdf["DLMC"]) == {"水浇地", "旱地"}
    assert src.notes == []


@pytest.mark.parametrize("fixture", ["utf8_shp", "utf8_nocpg_shp"])
def test_utf8(fixture, request):
    src = read_source(request.getfixturevalue(fixture))
    assert src.encoding == "UTF-8"
    assert src.gdf["ZLDWMC"][0] == "利通区金积镇"


def test_cpg_that_lies_is_corrected(tmp_path):
    shp = write_shp(parcels(), tmp_path / "lie.shp", "GBK")
    shp.with_suffix(".cpg").write_text("UTF-8")
    src = read_source(shp)
    assert src.encoding == "GB18030"
    assert src.gdf["DLMC"][0] == "水浇地"
    assert any(".cpg" in n for n in src.notes)


@pytest.mark.parametrize("cpg", ["936", "ANSI 936", "CP936", "GB2312"])
def test_cpg_spellings(tmp_path, cpg):
    shp = write_shp(parcels(), tmp_path / "c.shp", "GBK")
    shp.with_suffix(".cpg").write_text(cpg)
    src = read_source(shp)
    assert src.encoding == "GB18030" and src.gdf["DLMC"][0] == "水浇地" and src.notes == []


def test_user_encoding_wins(gbk_prefixed_shp):
    src = read_source(gbk_prefixed_shp, encoding="gbk")
    assert src.encoding == "GBK"
    assert src.gdf["DLMC"][0] == "水浇地"


def test_user_encoding_that_does_not_decode(gbk_prefixed_shp):
    with pytest.raises(ReadError) as exc:
        read_source(gbk_prefixed_shp, encoding="UTF-8")
    assert rules(exc) == ["encoding_error"]
    assert "DLTB.shp" in exc.value.message
    assert exc.value.problems[0].row == "1"


def test_unknown_user_encoding(gbk_prefixed_shp):
    with pytest.raises(ReadError) as exc:
        read_source(gbk_prefixed_shp, encoding="klingon")
    assert rules(exc) == ["unknown_encoding"]


def _cut_first_value(shp: Path, text: str, codec: str, width_field: int = 3) -> None:
    """Put ``text`` cut inside its last character into the first value of field 3."""
    dbf = shp.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    _n, header_len, _rec_len = struct.unpack("<IHH", data[4:12])
    offset, pos = 1, 32
    widths = []
    while data[pos] != 0x0D:
        widths.append(data[pos + 16])
        pos += 32
    offset += sum(widths[: width_field - 1])
    width = widths[width_field - 1]
    raw = text.encode(codec)
    raw = raw[: len(raw) - 1]  # last character cut in half
    assert len(raw) <= width
    data[header_len + offset : header_len + offset + width] = raw.ljust(width, b" ")
    dbf.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("encoding", "codec", "expected"), [("UTF-8", "utf-8", "UTF-8"), ("GBK", "gbk", "GB18030")]
)
def test_character_cut_by_field_width(tmp_path, encoding, codec, expected):
    shp = write_shp(parcels(), tmp_path / "cut.shp", encoding, cpg=False)
    _cut_first_value(shp, "水浇地", codec)
    src = read_source(shp)
    assert src.encoding == expected
    assert src.gdf["DLMC"][0] == "水浇"
    assert src.gdf["DLMC"][1] == "旱地"


def test_deleted_records_are_not_truncation(tmp_path, utf8_shp):
    dbf = utf8_shp.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    _n, header_len, rec_len = struct.unpack("<IHH", data[4:12])
    data[header_len + rec_len] = 0x2A  # second record deleted
    dbf.write_bytes(bytes(data))
    src = read_source(utf8_shp)
    assert len(src.gdf) == 5


def test_lowercase_fields_are_uppercased(tmp_path):
    gdf = parcels().rename(columns={"DLMC": "dlmc"})
    src = read_source(write_shp(gdf, tmp_path / "lower.shp", "UTF-8"))
    assert "DLMC" in src.gdf.columns and "dlmc" not in src.gdf.columns


def test_checksum_of_shapefile(gbk_prefixed_shp):
    src = read_source(gbk_prefixed_shp)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in shp_parts(gbk_prefixed_shp)))
    assert src.checksum == digest.hexdigest()
    assert read_source(gbk_prefixed_shp).checksum == src.checksum


def test_progress_is_reported(utf8_shp):
    calls = []
    read_source(utf8_shp, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (6, 6)


def test_progress_in_batches(tmp_path):
    path = tmp_path / "big.gpkg"
    pyogrio.write_dataframe(parcels(70000), path, layer="DLTB")
    calls = []
    src = read_source(path, progress=lambda done, total: calls.append((done, total)))
    assert len(src.gdf) == 70000
    assert len(calls) >= 2 and calls[-1] == (70000, 70000)
    assert all(total == 70000 for _d, total in calls)


# --- zip ----------------------------------------------------------------------


def test_zipped_shapefile(zipped_shp, gbk_prefixed_shp):
    assert list_layers(zipped_shp) == ["DLTB"]
    src = read_source(zipped_shp)
    assert src.file_name == "delivery.zip!DLTB.shp"
    assert src.encoding == "GB18030"
    assert src.gdf["DLMC"][0] == "水浇地"
    # same content, same checksum, whether zipped or not
    assert src.checksum == read_source(gbk_prefixed_shp).checksum


def test_zip_with_two_shapefiles(tmp_path, gbk_prefixed_shp, utf8_shp):
    z = tmp_path / "two.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in shp_parts(gbk_prefixed_shp):
            zf.write(p, f"2023/{p.name}")
        for p in shp_parts(utf8_shp):
            zf.write(p, f"2023/{p.name}")
        zf.writestr("__MACOSX/2023/._DLTB.shp", b"junk")
    assert sorted(list_layers(z)) == ["DLTB", "utf8"]
    with pytest.raises(ReadError) as exc:
        read_source(z)
    assert rules(exc) == ["layer_required"]
    assert "DLTB" in exc.value.message and "utf8" in exc.value.message
    src = read_source(z, layer="dltb")
    assert src.file_name == "two.zip!2023/DLTB.shp"
    assert src.gdf["DLMC"][0] == "水浇地"


def test_zip_with_gbk_member_names(tmp_path, gbk_prefixed_shp, monkeypatch):
    # Windows zip tools in a Chinese locale write GBK names without the UTF-8 flag
    def gbk_names(self):
        return self.filename.encode("gbk"), self.flag_bits

    z = tmp_path / "gbknames.zip"
    with monkeypatch.context() as m:
        m.setattr(zipfile.ZipInfo, "_encodeFilenameFlags", gbk_names)
        with zipfile.ZipFile(z, "w") as zf:
            for p in shp_parts(gbk_prefixed_shp):
                zf.write(p, f"数据/地类图斑{p.suffix}")
    assert list_layers(z) == ["地类图斑"]
    src = read_source(z)
    assert src.file_name == "gbknames.zip!数据/地类图斑.shp"
    assert src.gdf["DLMC"][0] == "水浇地"


def test_zip_with_gdb(tmp_path, gdb):
    z = tmp_path / "gdb.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted(gdb.iterdir()):
            zf.write(f, f"交付/{gdb.name}/{f.name}")
    assert list_layers(z) == ["DLTB", "XZQ"]
    src = read_source(z, layer="XZQ")
    assert src.file_name == f"gdb.zip!交付/{gdb.name}:XZQ"
    assert src.gdf["XZQMC"][0] == "利通区"
    assert src.checksum == read_source(gdb, layer="XZQ").checksum


def test_corrupt_zip(tmp_path):
    z = tmp_path / "broken.zip"
    z.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ReadError) as exc:
        read_source(z)
    assert rules(exc) == ["corrupt_file"]
    assert "broken.zip" in exc.value.message


def test_truncated_zip(zipped_shp):
    cut(zipped_shp, 0.6)
    with pytest.raises(ReadError) as exc:
        read_source(zipped_shp)
    assert rules(exc) == ["corrupt_file"]


def test_zip_with_truncated_dbf(tmp_path, gbk_prefixed_shp):
    cut(gbk_prefixed_shp.with_suffix(".dbf"), 0.7)
    z = zip_files(tmp_path / "d.zip", shp_parts(gbk_prefixed_shp))
    with pytest.raises(ReadError) as exc:
        read_source(z)
    assert rules(exc) == ["truncated_file"]
    assert "d.zip!DLTB.dbf" in exc.value.message


def test_zip_without_data(tmp_path):
    z = tmp_path / "empty.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    with pytest.raises(ReadError) as exc:
        read_source(z)
    assert rules(exc) == ["no_layer"]


# --- FileGDB, GeoPackage, GeoJSON ---------------------------------------------


def test_gdb_layers(gdb):
    assert list_layers(gdb) == ["DLTB", "XZQ"]
    with pytest.raises(ReadError) as exc:
        read_source(gdb)
    assert rules(exc) == ["layer_required"]
    assert "DLTB" in exc.value.message and "XZQ" in exc.value.message
    src = read_source(gdb, layer="DLTB")
    assert src.file_name == f"{gdb.name}:DLTB"
    assert src.layer == "DLTB"
    assert src.encoding is None
    assert src.crs.to_epsg() == 4523
    assert src.gdf["DLMC"][0] == "水浇地"
    assert len(src.gdf) == 6
    files = sorted(f for f in gdb.iterdir())
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    assert src.checksum == digest


def test_gdb_unknown_layer(gdb):
    with pytest.raises(ReadError) as exc:
        read_source(gdb, layer="LSYD")
    assert rules(exc) == ["layer_not_found"]


def test_truncated_gdb_table(tmp_path, gdb):
    # GDAL's Arrow reader returns fewer rows from a cut .gdbtable without an error
    broken = tmp_path / "broken.gdb"
    shutil.copytree(gdb, broken)
    tables = sorted(broken.glob("*.gdbtable"), key=lambda f: f.stat().st_size)
    cut(tables[-1], 0.6)
    with pytest.raises(ReadError) as exc:
        read_source(broken, layer="DLTB")
    assert rules(exc) == ["truncated_file"]


def test_gpkg(gpkg):
    assert list_layers(gpkg) == ["DLTB"]
    src = read_source(gpkg)
    assert src.file_name == "dltb.gpkg:DLTB"
    assert src.crs.to_epsg() == 4523
    assert src.gdf["ZLDWMC"][0] == "利通区金积镇"
    assert src.checksum == hashlib.sha256(gpkg.read_bytes()).hexdigest()


def test_gpkg_encoding_is_ignored(gpkg):
    src = read_source(gpkg, encoding="GBK")
    assert src.encoding is None and src.notes


def test_truncated_gpkg(gpkg):
    cut(gpkg, 0.5)
    with pytest.raises(ReadError) as exc:
        read_source(gpkg)
    assert rules(exc) == ["corrupt_file"]


def test_geojson_defaults_to_wgs84(geojson_lonlat):
    src = read_source(geojson_lonlat)
    assert src.file_name == "dltb.geojson"
    assert src.crs is not None and src.crs.to_epsg() == 4326
    assert src.gdf["DLMC"][0] == "水浇地"
    crs, _notes = detect_crs(src.gdf, src.crs, file_name=src.file_name)
    out = to_storage(src.gdf, crs)
    lon, lat = shapely.get_coordinates(out.geometry).mean(axis=0)
    assert abs(lon - LON0) < 0.01 and abs(lat - LAT0) < 0.01


@pytest.mark.parametrize(
    "content", ["hello", '{"type": "FeatureCollection", "features": [{"type": ']
)
def test_geojson_that_is_not_json(tmp_path, content):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(ReadError) as exc:
        read_source(path)
    assert rules(exc) == ["corrupt_file"]
    assert "bad.geojson" in exc.value.message


# --- refusals -----------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(ReadError) as exc:
        read_source(tmp_path / "nope.shp")
    assert rules(exc) == ["file_not_found"]
    assert "nope.shp" in exc.value.message
    with pytest.raises(ReadError):
        list_layers(tmp_path / "nope.gdb")


@pytest.mark.parametrize("name", ["data.txt", "data.xlsx", "noext"])
def test_unknown_extension(tmp_path, name):
    (tmp_path / name).write_text("x")
    with pytest.raises(ReadError) as exc:
        read_source(tmp_path / name)
    assert rules(exc) == ["unknown_format"]
    assert name in exc.value.message


def test_sidecar_passed_instead_of_shp(utf8_shp):
    with pytest.raises(ReadError) as exc:
        read_source(utf8_shp.with_suffix(".dbf"))
    assert rules(exc) == ["unknown_format"]
    assert ".shp" in exc.value.message


def test_truncated_shp(utf8_shp):
    # GDAL alone would return the rows, half of them without geometry
    cut(utf8_shp, 0.5)
    with pytest.raises(ReadError) as exc:
        read_source(utf8_shp)
    assert rules(exc) == ["truncated_file"]
    assert "utf8.shp" in exc.value.message


def test_shp_cut_with_header_rewritten(utf8_shp):
    # the .shp header agrees with the cut size, but the .shx points past the end
    data = bytearray(utf8_shp.read_bytes())
    keep = len(data) - 50
    data = data[:keep]
    data[24:28] = struct.pack(">i", keep // 2)
    utf8_shp.write_bytes(bytes(data))
    with pytest.raises(ReadError) as exc:
        read_source(utf8_shp)
    assert rules(exc) == ["truncated_file"]
    assert exc.value.problems[0].row == "6"


def test_truncated_dbf(utf8_shp):
    # GDAL alone would silently return fewer rows
    cut(utf8_shp.with_suffix(".dbf"), 0.7)
    with pytest.raises(ReadError) as exc:
        read_source(utf8_shp)
    assert rules(exc) == ["truncated_file"]
    assert ".dbf" in exc.value.message


def test_truncated_shx(utf8_shp):
    cut(utf8_shp.with_suffix(".shx"), 0.7)
    with pytest.raises(ReadError) as exc:
        read_source(utf8_shp)
    assert rules(exc) == ["truncated_file"]


@pytest.mark.parametrize("ext", [".dbf", ".shx"])
def test_missing_sidecar(utf8_shp, ext):
    utf8_shp.with_suffix(ext).unlink()
    with pytest.raises(ReadError) as exc:
        read_source(utf8_shp)
    assert rules(exc) == ["missing_sidecar"]
    assert ext in exc.value.message


def test_shx_and_dbf_disagree(tmp_path, utf8_shp):
    (tmp_path / "o").mkdir()
    small = write_shp(parcels(3), tmp_path / "o" / "utf8.shp", "UTF-8")
    shutil.copy(utf8_shp.with_suffix(".dbf"), small.with_suffix(".dbf"))
    with pytest.raises(ReadError) as exc:
        read_source(small)
    assert rules(exc) == ["corrupt_file"]


def test_not_a_shapefile(tmp_path):
    shp = tmp_path / "fake.shp"
    shp.write_bytes(b"\x00" * 200)
    (tmp_path / "fake.dbf").write_bytes(b"\x00" * 200)
    (tmp_path / "fake.shx").write_bytes(b"\x00" * 200)
    with pytest.raises(ReadError) as exc:
        read_source(shp)
    assert rules(exc) == ["corrupt_file"]


# --- CRS of what was read -------------------------------------------------------


def test_prefixed_eastings_under_plain_prj_end_to_end(gbk_prefixed_shp):
    src = read_source(gbk_prefixed_shp)
    assert src.crs.to_epsg() == 4544  # what the .prj says
    crs, notes = detect_crs(src.gdf, src.crs, file_name=src.file_name)
    assert crs.to_epsg() == 4523
    assert notes and "4523" in notes[0] and "35" in notes[0]
    out = to_storage(src.gdf, crs, file_name=src.file_name)
    assert out.crs.to_epsg() == 4490
    expected = pyproj.Transformer.from_crs(4523, 4490, always_xy=True)
    xy = shapely.get_coordinates(src.gdf.geometry)
    lon, lat = expected.transform(xy[:, 0], xy[:, 1])
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry), np.c_[lon, lat], atol=1e-9)
    assert abs(lon[0] - LON0) < 0.01 and abs(lat[0] - LAT0) < 0.01


def test_no_prj_is_unknown_crs(noprj_shp):
    from onemap.errors import InputError

    src = read_source(noprj_shp)
    assert src.crs is None
    with pytest.raises(InputError) as exc:
        detect_crs(src.gdf, src.crs, file_name=src.file_name)
    assert rules(exc) == ["unknown_crs"]
    assert "--crs" in exc.value.message and "EPSG:4523" in exc.value.message


def test_zip_ignores_other_json(tmp_path, gbk_prefixed_shp):
    z = zip_files(tmp_path / "m.zip", shp_parts(gbk_prefixed_shp))
    with zipfile.ZipFile(z, "a") as zf:
        zf.writestr("metadata.json", '{"producer": "某测绘院"}')
    assert list_layers(z) == ["DLTB"]


def test_gbk_field_names(tmp_path):
    gdf = parcels().rename(columns={"DLMC": "地类名称"})
    src = read_source(write_shp(gdf, tmp_path / "names.shp", "GBK", cpg=False))
    assert src.encoding == "GB18030"
    assert src.gdf["地类名称"][0] == "水浇地"


def test_ascii_only_shapefile_is_utf8(tmp_path):
    gdf = parcels()[["BSM", "DLBM", "geometry"]]
    src = read_source(write_shp(gdf, tmp_path / "ascii.shp", "UTF-8", cpg=False))
    assert src.encoding == "UTF-8" and src.notes == []


def test_empty_layer(tmp_path):
    src = read_source(write_shp(parcels().iloc[:0], tmp_path / "empty.shp", "UTF-8"))
    assert len(src.gdf) == 0 and "DLMC" in src.gdf.columns


def test_zip_with_damaged_member(tmp_path, gbk_prefixed_shp):
    z = zip_files(tmp_path / "bad.zip", shp_parts(gbk_prefixed_shp))
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("DLTB.dbf")
    data = bytearray(z.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 5, start + 25):
        data[k] ^= 0x5A
    z.write_bytes(bytes(data))
    with pytest.raises(ReadError) as exc:
        read_source(z)
    assert rules(exc) == ["corrupt_file"]
