"""Evidence rules of the field app with hand-made positions and times."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
import shapely

from onemap.errors import DomainDataError
from onemap.field.config import EvidenceRules, load_config
from onemap.field.evidence_rules import (
    PhotoFacts,
    check_count,
    check_evidence,
    distance_to_geometry_m,
    parse_time,
)

# GRS80 (= CGCS2000) meridian radius of curvature, written out by hand.
A = 6378137.0
F = 1 / 298.257222101
E2 = F * (2 - F)


def meridian_m(lat_deg: float, dlat_deg: float) -> float:
    """Metres along the meridian for a small latitude step (radius of curvature at the middle)."""
    phi = math.radians(lat_deg + dlat_deg / 2)
    m = A * (1 - E2) / (1 - E2 * math.sin(phi) ** 2) ** 1.5
    return m * math.radians(dlat_deg)


def dlat_for(lat_deg: float, metres: float) -> float:
    """Latitude step (degrees) for ``metres`` north of ``lat_deg``."""
    m = A * (1 - E2) / (1 - E2 * math.sin(math.radians(lat_deg)) ** 2) ** 1.5
    return math.degrees(metres / m)


PATCH = shapely.box(106.200, 37.950, 106.202, 37.952)
RULES = EvidenceRules(max_distance_m=100, max_accuracy_m=30, clock_slack_minutes=10,
                      utc_offset_hours=8)
CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 1, 0, 0, tzinfo=CST)
END = datetime(2026, 11, 30, 23, 59, tzinfo=CST)
RECEIVED = datetime(2026, 11, 20, 12, 0, tzinfo=CST)


def photo(name="a.jpg", lon=106.201, lat=37.951, acc=5.0, when=None):
    return PhotoFacts(name, lon, lat, acc, when or datetime(2026, 11, 20, 10, 0, tzinfo=CST), 90.0)


def test_distance_zero_inside_and_meridian_outside():
    assert distance_to_geometry_m(106.201, 37.951, PATCH) == 0.0
    dlat = 0.001
    expected = meridian_m(37.952, dlat)  # due north of the top edge
    got = distance_to_geometry_m(106.201, 37.952 + dlat, PATCH)
    assert got == pytest.approx(expected, abs=0.01)
    assert 110.9 < got < 111.1  # ~111.0 m for 0.001° of latitude at 38°N


def test_distance_to_a_point_task():
    point = shapely.Point(106.25, 38.0)
    assert distance_to_geometry_m(106.25, 38.0005, point) == pytest.approx(
        meridian_m(38.0, 0.0005), abs=0.005)


def test_location_rule_threshold():
    near = photo(lat=37.952 + dlat_for(37.952, 80.0))
    far = photo(name="far.jpg", lat=37.952 + dlat_for(37.952, 150.0))
    flags = check_evidence([near, far], geometry=PATCH, start=START, end=END,
                           received_at=RECEIVED, prior_photos=0, min_photos=2,
                           kind_title="卫片执法核查举证", rules=RULES)
    assert [(f.photo, f.rule) for f in flags] == [("far.jpg", "位置不符")]
    assert "150.0 米" in flags[0].message and "100 米" in flags[0].message


def test_time_rule_before_after_and_future():
    early = photo(name="early.jpg", when=START - timedelta(minutes=11))
    slack = photo(name="slack.jpg", when=START - timedelta(minutes=9))
    late = photo(name="late.jpg", when=END + timedelta(hours=1))
    future = photo(name="future.jpg", when=RECEIVED + timedelta(minutes=30))
    flags = check_evidence([early, slack, future], geometry=PATCH, start=START, end=END,
                           received_at=RECEIVED, prior_photos=0, min_photos=1,
                           kind_title="核查", rules=RULES)
    assert [(f.photo, f.rule) for f in flags] == [("early.jpg", "时间不符"), ("future.jpg", "时间不符")]
    assert "早于任务开始" in flags[0].message and "晚于服务器收到" in flags[1].message
    # a photo after the period's end, received later still
    flags = check_evidence([late], geometry=PATCH, start=START, end=END,
                           received_at=END + timedelta(days=1), prior_photos=0, min_photos=1,
                           kind_title="核查", rules=RULES)
    assert [(f.photo, f.rule) for f in flags] == [("late.jpg", "时间不符")]
    assert "晚于任务期限" in flags[0].message
    # an open period (hazard patrol) never flags a late photo
    assert check_evidence([late], geometry=PATCH, start=START, end=None,
                          received_at=END + timedelta(days=1), prior_photos=0, min_photos=1,
                          kind_title="巡查", rules=RULES) == []


def test_accuracy_rule():
    flags = check_evidence([photo(acc=30.0), photo(name="b.jpg", acc=30.5)], geometry=PATCH,
                           start=START, end=END, received_at=RECEIVED, prior_photos=0,
                           min_photos=1, kind_title="核查", rules=RULES)
    assert [(f.photo, f.rule) for f in flags] == [("b.jpg", "精度不足")]


def test_count_rule_counts_earlier_photos():
    assert [f.rule for f in check_count(1, 2, "卫片执法核查举证")] == ["举证不足"]
    assert check_count(1, 2, "卫片执法核查举证")[0].photo is None
    assert check_count(2, 2, "x") == []
    flags = check_evidence([photo()], geometry=PATCH, start=START, end=END, received_at=RECEIVED,
                           prior_photos=1, min_photos=2, kind_title="核查", rules=RULES)
    assert flags == []


def test_parse_time_local_and_offsets():
    assert parse_time("2026-11-20T10:00:00", 8) == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert parse_time("2026-11-20T02:00:00Z") == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_time("昨天")


def test_shipped_config_and_bad_override(tmp_path, monkeypatch):
    cfg = load_config()
    assert cfg.rules.max_distance_m == 100
    assert cfg.kinds["case_check"].action == "evidence"
    assert cfg.kinds["hazard_patrol"].register_name == "DZZHYHD"
    bad = tmp_path / "field_tasks.yaml"
    bad.write_text("version: x\nkinds:\n  k: {title: t, source: register, action: a}\n", "utf-8")
    monkeypatch.setenv("ONEMAP_DOMAIN_DIR", str(tmp_path))
    with pytest.raises(DomainDataError) as exc:
        load_config()
    assert "field_tasks.yaml" in exc.value.message and "register" in exc.value.message
