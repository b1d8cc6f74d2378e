"""Charts render Chinese with a CJK font: no missing-glyph warning, the CJK font file is used."""

from __future__ import annotations

import io
import warnings

import pytest

from onemap.reports import charts
from onemap.reports.fonts import find_cjk_font


def _glyph_warnings(records) -> list[str]:
    return [str(w.message) for w in records if "missing from font" in str(w.message)]


@pytest.fixture
def font_log(monkeypatch):
    """Font files matplotlib picks while drawing."""
    from matplotlib import font_manager

    picked: list[str] = []
    real = font_manager.FontManager.findfont

    def spy(self, prop, *args, **kwargs):
        path = real(self, prop, *args, **kwargs)
        picked.append(str(path))
        return path

    monkeypatch.setattr(font_manager.FontManager, "findfont", spy)
    return picked


def test_the_check_detects_missing_glyphs():
    """Drawing Chinese with matplotlib's default font warns: the checks below can fail."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(record=True) as rec, matplotlib.rc_context(
            {"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("森林覆盖率")
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
    assert _glyph_warnings(rec)


CASES = {
    "line": lambda: charts.line_chart({"吴忠市": {2020: 18.2, 2023: None, 2024: 19.9},
                                       "利通区": {2020: 10.0, 2024: 11.0}},
                                      title="森林覆盖率变化趋势", ylabel="%", targets={2025: 20.46},
                                      dpi=60),
    "bar": lambda: charts.bar_chart(["利通区", "青铜峡市", "盐池县"], [25.0, None, 15.0],
                                    colours=["#2E7D32", "#9E9E9E", "#C62828"],
                                    title="批而未供土地处置率", ylabel="%", reference=20.0, dpi=60),
    "indicator": lambda: charts.indicator_chart(
        "耕地保有量", "公顷", series={"吴忠市": {2020: 2.65, 2024: 2.23}}, targets={2024: 2.15},
        bars={"利通区": 1.28, "青铜峡市": 0.95}, bar_colours=["#2E7D32", "#F9A825"], year=2024, dpi=60),
    "status": lambda: charts.status_chart({"达标": 4, "预警": 2, "未达标": 5, "缺少数据": 1, "仅监测": 11},
                                          {"达标": "#2E7D32", "预警": "#F9A825", "未达标": "#C62828",
                                           "缺少数据": "#9E9E9E", "仅监测": "#5B7A99"}, dpi=60),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_charts_render_chinese_with_the_cjk_font(kind, font_log, tmp_path):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        png = CASES[kind]()
    assert png.startswith(b"\x89PNG") and len(png) > 2000
    assert _glyph_warnings(rec) == []
    assert str(find_cjk_font().path) in font_log


def test_chart_written_to_file(tmp_path):
    out = tmp_path / "c.png"
    png = charts.bar_chart(["甲"], [1.0], out=out, dpi=40)
    assert out.read_bytes() == png
