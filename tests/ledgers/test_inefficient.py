"""低效用地 register: the verdict and its reasons computed from the measures and the floors of each 用途.

Floors shipped in ``inefficient_criteria.yaml`` (placeholders): 工业 容积率 0.6, 投资强度 1050 万元/公顷,
亩均税收 5 万元/亩; 商服 容积率 1.0, 亩均税收 10; 住宅 容积率 1.0. Below a floor is 低效; at the floor is not.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from onemap.app.ledgers import act, get_record, import_records
from onemap.errors import InputError

ROW = {"行政区代码": "640302", "土地使用权人": "某公司"}


def frame(rows):
    return gpd.GeoDataFrame([{**ROW, **r, "geometry": shapely.box(106 + i * 0.001, 37.95, 106.0005 + i * 0.001,
                                                                  37.9505)} for i, r in enumerate(rows)], crs=4490)


def test_verdicts_and_reasons(workspace, tmp_path):
    frame([{"编号": "D1", "用途": "工业", "容积率": 0.45, "投资强度": 1200, "亩均税收": 3},
           {"编号": "D2", "用途": "工业", "容积率": 0.6, "投资强度": 1050, "亩均税收": 5},
           {"编号": "D3", "用途": "商服", "容积率": None, "投资强度": None, "亩均税收": None},
           {"编号": "D4", "用途": "住宅", "容积率": 0.99, "投资强度": None, "亩均税收": 1}]
          ).to_file(tmp_path / "dx.geojson", driver="GeoJSON")
    import_records(workspace, "低效用地", tmp_path / "dx.geojson", actor="张三")
    got = {k: get_record(workspace, "inefficient", k)["values"] for k in ("D1", "D2", "D3", "D4")}
    assert (got["D1"]["DXPD"], got["D1"]["DXYJ"]) == ("低效", "容积率 0.45 < 0.6；亩均税收（万元/亩） 3 < 5")
    assert (got["D2"]["DXPD"], got["D2"]["DXYJ"]) == (
        "未低于标准", "容积率 0.6 ≥ 0.6；投资强度（万元/公顷） 1050 ≥ 1050；亩均税收（万元/亩） 5 ≥ 5")
    assert (got["D3"]["DXPD"], got["D3"]["DXYJ"]) == ("无法判定", "未填：容积率、亩均税收")
    assert (got["D4"]["DXPD"], got["D4"]["DXYJ"]) == ("低效", "容积率 0.99 < 1")  # 住宅 has no 亩均税收 floor
    assert got["D1"]["MJ"] > 0
    moved = act(workspace, "低效用地", "D1", "plan", actor="张三", fields={"ZKFFS": "提高容积率", "RJL": "0.7",
                                                                              "MJSS": "6"})
    assert (moved["state_title"], moved["values"]["DXPD"]) == ("再开发方案", "未低于标准")  # recomputed on the move


def test_a_bad_use_is_refused_and_nothing_written(workspace, tmp_path):
    before = workspace.fingerprint()
    frame([{"编号": "D9", "用途": "仓储", "容积率": 0.3}]).to_file(tmp_path / "bad.geojson", driver="GeoJSON")
    with pytest.raises(InputError, match="第 1 个要素：YT（用途）「仓储」不在代码表（工业、商服、住宅）"):
        import_records(workspace, "inefficient", tmp_path / "bad.geojson", actor="张三")
    assert workspace.fingerprint() == before
