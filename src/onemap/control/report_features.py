"""The 预审意见's part on the features a site touches one by one: 压覆 and 地质灾害.

For every check layer that lists its features (``attributes`` or ``buffer_m`` in
``check_layers.yaml``: 矿业权, 地质灾害隐患点, 地质灾害风险区) the report names each
right, point or zone with its attributes and how much of the site it takes (or how far
it is), then what the applicant must do: the advice of the rule of the same id
(``rules.yaml``) when it is not met. The 地质灾害危险性评估 grade follows when the caller
gave the 建设项目重要性.
"""

from __future__ import annotations

from typing import Any

from onemap.control.check import CHECKED, REGISTER_VERSION, CheckResult, LayerResult
from onemap.reports.document import OfficialDocument
from onemap.reports.numbers import area_value, fmt_area, fmt_number

__all__ = ["assessment_text", "feature_layers", "features_section"]

_CN = "一二三四五六七八九十"


def feature_layers(result: CheckResult) -> list[LayerResult]:
    """The layers that list their features (in check-layer order), checked or not."""
    return [lr for lr in result.layers.values() if lr.fields or lr.buffer_m is not None]


def assessment_text(assessment: dict[str, Any]) -> str:
    """The sentence giving the 地质灾害危险性评估 grade of the project."""
    assumed = "" if assessment["complexity_given"] else "（申请人未提供，按从严取值，须由评估单位核定）"
    return (f"按《地质灾害危险性评估规范》（{assessment['standard']}），本项目为{assessment['importance']}，"
            f"地质环境条件复杂程度为{assessment['complexity']}{assumed}，应开展{assessment['grade']}"
            "地质灾害危险性评估。")


def _rows(lr: LayerResult, unit: str, site_m2: float) -> tuple[list[str], list[list[Any]]]:
    head = ["编号", *lr.fields.values()]
    rows = []
    for f in lr.features:
        row: list[Any] = [f["id"], *[f.get(k) or "—" for k in lr.fields]]
        if lr.buffer_m is not None:
            d = f["distance_m"]
            row.append("用地范围内" if d <= 0 else fmt_number(d, 0))
        else:
            row += [area_value(f["area_m2"], unit),
                    f"{f['area_m2'] / site_m2:.2%}" if site_m2 > 0 else "—"]
        rows.append(row)
    head += (["距用地（米）"] if lr.buffer_m is not None else [f"重叠面积（{unit}）", "占用地比例"])
    return head, rows


def features_section(doc: OfficialDocument, result: CheckResult, unit: str, first: int) -> int:
    """Write one subsection per feature-listing layer, then the assessment grade.

    Parameters
    ----------
    doc : OfficialDocument
        The document being written.
    result : CheckResult
        The check.
    unit : str
        Area unit of the document (公顷 or 亩).
    first : int
        Number of the first subsection (（四） after the three control lines).

    Returns
    -------
    int
        The number of the next subsection.
    """
    n = first
    rules = {r.id: r for r in result.rules}
    for k, lr in enumerate(feature_layers(result), start=1):
        doc.heading(f"（{_CN[n - 1]}）{lr.title}", 2)
        n += 1
        if lr.status != CHECKED:
            doc.paragraph(f"{lr.title}未入库，未检查；审查人员须核实拟用地是否涉及。")
            continue
        source = REGISTER_VERSION if lr.version == REGISTER_VERSION else f"{lr.version} 年版"
        if not lr.features:
            where = (f"周边 {fmt_number(lr.buffer_m, 0)} 米范围内没有" if lr.buffer_m is not None
                     else "不涉及")
            doc.paragraph(f"拟用地{where}在册的{lr.title}。（{source}）")
        else:
            if lr.buffer_m is not None:
                doc.paragraph(f"拟用地周边 {fmt_number(lr.buffer_m, 0)} 米范围内有{lr.title} "
                              f"{len(lr.features)} 处（距离为到用地边界的椭球距离）。（{source}）")
            else:
                doc.paragraph(f"拟用地与{lr.title} {len(lr.features)} 个重叠，合计 "
                              f"{fmt_area(lr.area_m2, unit)} {unit}。（{source}）")
            head, rows = _rows(lr, unit, result.area_m2)
            doc.table(head, rows, caption=f"表 4-{k}　涉及的{lr.title}")
        rule = rules.get(lr.dataset)
        if rule is not None and rule.verdict != "符合" and rule.advice:
            doc.paragraph(f"申请人须：{rule.advice}")
    if result.assessment is not None:
        doc.heading(f"（{_CN[n - 1]}）地质灾害危险性评估级别", 2)
        n += 1
        doc.paragraph(assessment_text(result.assessment))
    return n
