"""基准地价 register and the 宗地 price by the 基准地价系数修正法, worked by hand.

Two 商服 级别 side by side (一级 3 000 元/㎡, 二级 2 000 元/㎡, both 设定容积率 2.0, 五通一平, N = 40, r = 6 %,
基准日 2024-01-01) and a 住宅 级别 over both (ignored for 商服). Boxes of one latitude band: their areas are in
the ratio of their longitude spans, so a site over the common edge lies half in each. The tables are the shipped
``landprice.yaml`` (synthetic example values, quoted below).
"""

from __future__ import annotations

import shutil

import docx
import geopandas as gpd
import pytest
import shapely

from onemap.app.landprice import land_price
from onemap.app.ledgers import get_record, import_records
from onemap.errors import InputError
from onemap.store import init_workspace, open_workspace

S, N = 37.95, 37.952
LEVEL = {"用途": "商服", "设定容积率": 2.0, "开发程度": "五通一平", "法定最高年限": 40, "基准日": "2024-01-01",
         "行政区代码": "640302"}
LEVELS = [
    {**LEVEL, "区片编号": "SF-1", "级别": "一级", "基准地价": 3000, "土地还原率": "6%",
     "geometry": shapely.box(106.000, S, 106.002, N)},
    {**LEVEL, "区片编号": "SF-2", "级别": "二级", "基准地价": 2000, "土地还原率": "0.06",
     "geometry": shapely.box(106.002, S, 106.004, N)},
    {**LEVEL, "区片编号": "ZZ-1", "用途": "住宅", "级别": "一级", "基准地价": 5000, "土地还原率": "5.5",
     "法定最高年限": 70, "geometry": shapely.box(106.000, S, 106.004, N)},
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("landprice")
    ws = init_workspace(d / "ws.gpkg", name="测试")
    gpd.GeoDataFrame(LEVELS, crs=4490).to_file(d / "jb.geojson", driver="GeoJSON")
    import_records(ws, "基准地价级别", d / "jb.geojson", actor="张三")
    return d / "ws.gpkg"


@pytest.fixture
def world(built, tmp_path):
    shutil.copy(built, tmp_path / "ws.gpkg")
    return open_workspace(tmp_path / "ws.gpkg")


def site(tmp_path, w: float, e: float, name: str = "site.geojson"):
    path = tmp_path / name
    gpd.GeoDataFrame({"name": ["宗地"]}, geometry=[shapely.box(w, S, e, N)], crs=4490).to_file(
        path, driver="GeoJSON")
    return path


def test_rates_are_read_as_fractions(world):
    assert get_record(world, "base_prices", "SF-1")["values"]["HYL"] == 0.06  # "6%"
    assert get_record(world, "base_prices", "SF-2")["values"]["HYL"] == 0.06  # "0.06"
    assert get_record(world, "base_prices", "ZZ-1")["values"]["HYL"] == 0.055  # "5.5" → 5.5 %


def test_a_price_worked_by_hand_with_each_coefficient(world, tmp_path):
    got = land_price(world, site(tmp_path, 106.0005, 106.0015), use="商服", far=2.5, years=30, on="2025-03-01",
                     factors=["繁华程度=较优", "交通条件=劣", "开发程度=七通一平"], docx=tmp_path / "p.docx")
    [part] = got["parts"]
    c = part["coefficients"]
    assert (part["level"], c["P0"]) == ("SF-1", 3000.0)
    assert c["Kt"] == pytest.approx(103.0 / 101.5, abs=1e-12)  # 地价指数 商服 2025Q1 103.0 / 2024Q1 101.5
    # Ky = (1 − 1.06^−30) / (1 − 1.06^−40) = (1 − 0.1741101) / (1 − 0.0972222) = 0.8258899 / 0.9027778
    assert c["Ky"] == pytest.approx(0.914832, abs=1e-6)
    assert c["Kv"] == pytest.approx(1.05, abs=1e-12)  # curve 2.0 → 1.00, 3.0 → 1.10: 2.5 → 1.05; set 2.0 → 1.00
    assert c["sum_Ki"] == pytest.approx(0.03 - 0.04, abs=1e-12)  # 繁华程度 较优 +0.03, 交通条件 劣 −0.04
    assert c["Kf"] == 40.0  # 七通一平 150 − 五通一平 110 元/㎡
    # P = 3000 × 1.0147783 × 0.9148318 × 1.05 × 0.99 + 40 = 2895.0642 + 40
    assert got["price_yuan_m2"] == 2935.06
    assert got["total_yuan"] == round(2935.06 * got["area_m2"], 2)
    assert got["price_yuan_mu"] == round(2935.06 * 10000 / 15, 2)
    assert got["floor_price_yuan_m2"] == round(2935.06 / 2.5, 2)
    sources = {f["name"]: f["source"] for f in got["factors"]}
    assert sources["Kt"] == "landprice.yaml date_index.商服: 2025Q1 103 / 2024Q1 101.5"
    assert sources["K:繁华程度"] == "landprice.yaml factors.商服.繁华程度.较优"
    assert sources["K:一般"] == "临街状况、宗地形状"  # factors not given count as 一般
    doc = docx.Document(tmp_path / "p.docx")
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    banner = "\n".join(p.text for p in doc.sections[0].header.paragraphs)
    assert "宗地地价估算" in text and "2,935.06 元/平方米" in cells and "0.914832" in cells
    assert "模拟数据" in banner  # the tables are synthetic


def test_a_site_over_two_levels_is_priced_by_area_weights(world, tmp_path):
    # half in 一级 (3000), half in 二级 (2000); Kt = Ky = Kv = 1, no factors: (3000 + 2000) / 2
    got = land_price(world, site(tmp_path, 106.0015, 106.0025), use="商服", on="2024-02-01")
    assert [(p["level"], p["share"], p["price_yuan_m2"]) for p in got["parts"]] == [
        ("SF-1", 0.5, 3000.0), ("SF-2", 0.5, 2000.0)]
    assert got["price_yuan_m2"] == 2500.0 and got["floor_price_yuan_m2"] is None


def test_refusals_name_the_option_and_the_rule(world, tmp_path):
    before = world.fingerprint()
    inside = site(tmp_path, 106.0005, 106.0015)
    cases = [
        ({"use": "仓储"}, "--use 的取值「仓储」不是基准地价用途（可选：商服、住宅、工业、公共服务）"),
        ({"use": "工业"}, "工作空间没有工业用地的基准地价级别"),
        ({"use": "商服", "far": 7.0}, "商服容积率 7 超出容积率修正表的范围（0.5—6）"),
        ({"use": "商服", "years": 50}, "使用年限 50 应大于 0 且不超过商服一级（SF-1）的法定最高年限 40"),
        ({"use": "商服", "on": "2022-06-30"}, "地价指数表没有商服 2022Q2（估价期日所在季度）的指数"),
        ({"use": "商服", "factors": ["风水=优"]}, "商服用地没有修正因素「风水」"),
        ({"use": "商服", "factors": ["繁华程度=极好"]},
         "修正因素「繁华程度」没有等级「极好」（可用：优、较优、一般、较劣、劣）"),
        ({"use": "商服", "factors": ["繁华程度"]}, "--factors 的取值「繁华程度」应写成 因素=等级"),
        ({"use": "商服", "factors": ["开发程度=九通一平"]}, "宗地开发程度「九通一平」没有开发成本"),
    ]
    for kwargs, message in cases:
        with pytest.raises(InputError) as exc:
            land_price(world, inside, **{"on": "2025-03-01", **kwargs})
        assert message in str(exc.value), (kwargs, str(exc.value))
    with pytest.raises(InputError, match="宗地有 .* 平方米不在任何商服用地基准地价级别范围内"):
        land_price(world, site(tmp_path, 106.003, 106.005, "out.geojson"), use="商服", on="2025-03-01")
    assert world.fingerprint() == before
