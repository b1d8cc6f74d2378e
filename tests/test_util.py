"""Shared helpers: the polygonal part of geometries, cents, the year of a version label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from onemap.errors import InputError
from onemap.geo.polygonal import polygonal, polygonal_or_none
from onemap.util import to_cents, version_year

SQ = shapely.box(0, 0, 1, 1)
SQ2 = shapely.box(2, 0, 3, 1)
LINE = shapely.LineString([(1, 0), (2, 0)])


def test_polygonal_keeps_polygons_and_drops_lines_and_points():
    arr = np.array([SQ, shapely.MultiPolygon([SQ, SQ2]), LINE, shapely.Point(0, 0), None,
                    shapely.GeometryCollection([SQ, LINE]),
                    shapely.GeometryCollection([SQ, LINE, shapely.GeometryCollection([SQ2])]),
                    shapely.GeometryCollection([LINE])], dtype=object)
    out = polygonal(arr)
    assert out[0] is SQ and out[1] is arr[1]          # polygonal input passes unchanged
    assert [g.is_empty for g in out[2:5]] == [True, True, True]
    assert [shapely.get_type_id(g) for g in out[2:5]] == [3, 3, 3]  # empty Polygon
    assert out[5].equals(SQ)
    assert out[6].geom_type == "MultiPolygon" and out[6].area == 2.0  # nested collection flattened
    assert out[7].is_empty
    assert arr[5].geom_type == "GeometryCollection"   # the input is not modified


def test_polygonal_of_overlapping_parts_is_their_union():
    a, b = shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)
    g = polygonal(shapely.GeometryCollection([a, b]))
    assert g.is_valid and g.area == 3.0


def test_polygonal_returns_the_same_array_when_nothing_changes():
    arr = np.array([SQ, SQ2], dtype=object)
    assert polygonal(arr) is arr


def test_polygonal_or_none():
    assert polygonal_or_none(shapely.GeometryCollection([LINE])) is None
    assert polygonal_or_none(LINE) is None
    assert polygonal_or_none(None) is None
    assert polygonal_or_none(shapely.GeometryCollection([SQ, LINE])).equals(SQ)


def test_to_cents_is_exact_and_refuses_empty_values():
    # 0.29 * 100 = 28.999999999999996 in binary floating point: rounded, not truncated
    assert to_cents(pd.Series([0.29, "1234.56", 1e6 + 0.07])).tolist() == [29, 123456, 100000007]
    assert to_cents(np.array([0.1] * 10)).sum() == 100
    with pytest.raises(InputError) as info:
        to_cents(pd.Series([1.0, None]), "KCMJ")
    assert info.value.message == "KCMJ 存在空值，无法统计；请先补算图斑地类面积"
    with pytest.raises(InputError):
        to_cents(["12", "abc"])


@pytest.mark.parametrize(("label", "year"), [
    ("2024", 2024), ("2024-06-30", 2024), ("20240630", 2024), ("2024_06", 2024),
    ("JCTB-2025-06", 2025), ("DLTB-2023-2024", 2023), ("v2024", 2024), ("2024v2", 2024),
    ("1999", 1999), ("12345", None), ("202406301", None), ("1850", None), ("", None),
    (2026, 2026),
])
def test_version_year(label, year):
    assert version_year(label) == year
