"""Numbers, angles and lines as people write them in coordinate text files."""

from __future__ import annotations

import pytest

from onemap.errors import DomainDataError
from onemap.io import coordtext
from onemap.io.coordtext import gk_crs, normalize_line, parse_angle, parse_quantity, split_lines


@pytest.mark.parametrize(("text", "expected"), [
    ("7.7936公顷", (7.7936, "公顷")),
    (" 77936 平方米", (77936.0, "平方米")),
    ("４２０７５００．１２米", (4207500.12, "米")),
    ("116.9亩", (116.9, "亩")),
    ("0.1234km2", (0.1234, "KM2")),
    ("-12", (-12.0, "")),
    ("1.2.3", None),
    ("12,5", None),
    ("abc", None),
    ("", None),
])
def test_parse_quantity(text, expected):
    assert parse_quantity(text) == expected


# 37°54′12.345″ = 37 + 54/60 + 12.345/3600
DMS_VALUE = 37 + 54 / 60 + 12.345 / 3600


@pytest.mark.parametrize(("text", "packed", "value", "was_dms"), [
    ("37°54′12.345″", False, DMS_VALUE, True),
    ("37°54'12.345\"", False, DMS_VALUE, True),
    ("37度54分12.345秒", False, DMS_VALUE, True),
    ("37:54:12.345", False, DMS_VALUE, True),
    ("375412.345", False, DMS_VALUE, True),          # packed DDMMSS.sss (above 360)
    ("37.5412345", True, DMS_VALUE, True),           # 度.分秒 when the unit says 度分秒
    ("37.903429", False, 37.903429, False),          # decimal degrees
    ("106°", False, 106.0, False),
    ("-37°54′12.345″", False, -DMS_VALUE, True),
    ("37°54′12.345″S", False, -DMS_VALUE, True),
])
def test_parse_angle(text, packed, value, was_dms):
    got = parse_angle(text, packed_dms=packed)
    assert got is not None and got[0] == pytest.approx(value, abs=1e-12) and got[1] is was_dms


@pytest.mark.parametrize("text", ["37°60′00.000″", "37°54′60.000″", "376012.000", "37°5x′", "abc"])
def test_parse_angle_refuses_impossible_minutes_and_seconds(text):
    assert parse_angle(text) is None


def test_lines_are_numbered_as_an_editor_shows_them():
    assert split_lines("a\r\nb\rc\n\nd") == ["a", "b", "c", "", "d"]
    assert split_lines("") == []
    assert normalize_line("\u3000Ｊ１，１，４２０７５００＠ ") == "J1,1,4207500@"
    assert normalize_line("37°54′12.345″") == "37°54'12.345\""


def test_gk_crs_zones():
    assert gk_crs(35) == "EPSG:4523" and gk_crs(35, prefixed=False) == "EPSG:4544"
    assert gk_crs(18, 6) == "EPSG:4496" and gk_crs(18, 6, prefixed=False) == "EPSG:4507"
    with pytest.raises(ValueError, match="25–45"):
        gk_crs(18, 3)


def test_bureau_copy_of_the_settings_is_used_and_checked(tmp_path, monkeypatch):
    text = coordtext.DATA_FILE.read_text(encoding="utf-8")
    (tmp_path / coordtext.DATA_FILE.name).write_text(
        text.replace("ring_closure: required", "ring_closure: optional"), encoding="utf-8")
    monkeypatch.setenv("ONEMAP_DOMAIN_DIR", str(tmp_path))
    assert coordtext.load_settings().formats["bopan"].ring_closure == "optional"
    (tmp_path / coordtext.DATA_FILE.name).write_text(
        text.replace("ring_closure: required", "ring_closure: maybe"), encoding="utf-8")
    import os
    os.utime(tmp_path / coordtext.DATA_FILE.name, (1, 1))  # a new mtime: not the cached copy
    with pytest.raises(DomainDataError, match="ring_closure"):
        coordtext.load_settings()
