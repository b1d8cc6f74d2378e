"""The 宗地地价 estimate as a DOCX (公文 layout of :mod:`onemap.reports.document`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from onemap.reports.document import DocumentInfo, OfficialDocument


def write_landprice_docx(path: str | Path, result: dict[str, Any], *, site_name: str, org: str = "",
                         doc_number: str = "", synthetic: bool = False) -> Path:
    """Write the price estimate: the site, the 级别 parts, every coefficient with its source, the result.

    Parameters
    ----------
    path : str or Path
        The DOCX to write.
    result : dict
        :func:`onemap.ledgers.landprice.site_price` output (with ``tables_synthetic``).
    site_name : str
        The site's file or project name.
    org, doc_number : str
        编制单位 and 文号 (workspace settings).
    synthetic : bool
        A synthetic input (级别 records or tables): the 模拟数据 banner on every page.
    """
    doc = OfficialDocument(DocumentInfo(title="宗地地价估算（基准地价系数修正法）", org=org, doc_number=doc_number,
                                        date=date.fromisoformat(result["date"]), synthetic=synthetic,
                                        subtitle=f"（{site_name}）"))
    doc.heading("一、宗地概况", 1)
    doc.key_values([("宗地", site_name), ("用途", result["use"]), ("估价期日", result["date"]),
                    ("宗地面积", f"{result['area_m2']:,.2f} 平方米"),
                    ("容积率", "—" if result["floor_price_yuan_m2"] is None else f"{result['far']:g}"),
                    ("使用年限", f"{result['years']:g} 年" if result.get("years") else "法定最高年限")])
    doc.heading("二、估价方法", 1)
    doc.paragraph("采用基准地价系数修正法：P = P₀ × Kt × Ky × Kv × (1 + ΣKi) + Kf，其中 Ky = (1 − (1 + r)^−n) / "
                  "(1 − (1 + r)^−N)；宗地跨多个级别时按各级别内面积加权。")
    doc.heading("三、各级别修正系数", 1)
    rows = []
    for part in result["parts"]:
        c = part["coefficients"]
        rows.append([f"{part['grade']}（{part['level']}）", part["area_m2"], c["P0"], round(c["Kt"], 4),
                     round(c["Ky"], 4), round(c["Kv"], 4), round(c["sum_Ki"], 4), c["Kf"], part["price_yuan_m2"]])
    doc.table(["级别", "面积（平方米）", "P₀（元/平方米）", "Kt", "Ky", "Kv", "ΣKi", "Kf（元/平方米）",
               "地价（元/平方米）"], rows, decimals=[None, 2, 2, 4, 4, 4, 4, 2, 2])
    for part in result["parts"]:
        doc.table(["系数", "取值", "依据"], [[f["title"], round(f["value"], 6), f["source"]] for f in part["factors"]],
                  caption=f"{part['grade']}（{part['level']}）系数来源", decimals=[None, 6, None])
    doc.heading("四、估算结果", 1)
    pairs = [("单位地价", f"{result['price_yuan_m2']:,.2f} 元/平方米"),
             ("亩均地价", f"{result['price_yuan_mu']:,.2f} 元/亩"),
             ("总地价", f"{result['total_yuan']:,.2f} 元")]
    if result["floor_price_yuan_m2"] is not None:
        pairs.append(("楼面地价", f"{result['floor_price_yuan_m2']:,.2f} 元/平方米"))
    doc.key_values(pairs)
    if result.get("tables_synthetic"):
        doc.note("注：修正系数表为示例数据（landprice.yaml 标记为模拟），"
                 "须以本市公布的基准地价修正体系替换后方可使用。")
    doc.note("本估算仅供参考，不代替具有资质的土地估价机构出具的估价报告。")
    doc.signoff(org=org or None)
    return doc.save(path)
