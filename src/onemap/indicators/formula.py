"""The formula language of the indicator registry: small, data-driven, no ``eval``.

A formula is a YAML mapping with a ``kind``; composite kinds nest formulas.
Wherever a formula is expected, a bare name is a reference to another
indicator (its value, in its unit) or to an input field of the filled-in form.

Spatial kinds (values in 平方米, per county and for the whole city)
-------------------------------------------------------------------
``class_area``
    Σ TBDLMJ of the DLTB patches of a class selection. Counties are the first
    six characters of ZLDWDM. Keys: ``classes`` (a selection name of the
    registry, or a list of class tokens: a named code set such as
    ``cultivated``, ``group:林地``, or DLBM codes), ``czcsxm`` (optional list of
    城镇村属性码 the patches must carry), ``dataset`` (DLTB), ``area_field``
    (TBDLMJ).
``class_in_zone``
    The TBDLMJ share of the selection inside a zone layer (``zone``), by
    :func:`onemap.analysis.tabulate.tabulate`: a patch wholly inside counts
    with its TBDLMJ, a cut patch with area × (1 − KCXS). Overlapping zone
    polygons count once.
``class_transition``
    New land of ``to_classes`` on land that was ``from_classes`` in the
    previous year's DLTB (e.g. 新增建设用地): the area of the current
    to-class patches where they overlap previous from-class patches, with the
    same TBDLMJ rule as ``class_in_zone``.
``layer_area``
    Ellipsoidal area of a layer after dissolving its overlaps; per county the
    dissolved layer is cut with the county polygons of XZQ (or grouped by the
    layer's XZQDM when there is no XZQ). With ``clip`` (default) the city
    value is the part inside XZQ.
``field_sum``
    Σ of an area field of a layer (``field``, in ``unit``); missing as a whole
    when the field is absent or has empty values.
``monitor``
    Figures of the 卫片执法 accountability statistics
    (:func:`onemap.monitor.service.accountability`): ``measure`` is
    ``illegal_farmland`` (违法占用耕地面积) or ``new_construction_farmland``
    (新增建设用地占用耕地面积).
``ledger``
    Per-county status figures of the farmland ledgers, from a provider the
    use case passes in (``onemap.app.assessment``): ``measure`` is
    ``farmland_balance`` (number of 占补平衡 account measures — 数量, 水田,
    产能 — whose balance is below zero; 0 = 平衡) or ``in_out`` (进出平衡
    shortfall of the year, 流出 − 流入 when positive, in 平方米; 0 = 平衡).

Other kinds
-----------
``input``
    A field of the input form (``field``) for the year and unit; a city value
    left blank is the sum of the counties when the field's ``aggregate`` is
    ``sum`` and every county has a value.
``indicator``
    Another indicator (``code``).
``ratio``
    ``numerator`` ÷ ``denominator``; the unit is the quotient of theirs.
    A zero denominator gives no value, unless both are zero and ``if_zero``
    is set.
``sum``
    Σ ``terms`` (converted to the unit of the first). A term marked
    ``optional: true`` that has no value is left out and its
    ``missing_note`` is attached to the result.
``change_rate``
    Relative change of ``of`` since ``base_year``: ``(now − base) ÷ base``
    (``direction: increase``) or ``(base − now) ÷ base`` (``decrease``).
``first_available``
    Per unit, the first of ``options`` that has a value (e.g. a survey layer,
    else an input).

Every formula may carry ``label`` (said in notes when a ``first_available``
option is used), and ``optional``/``missing_note`` (used inside ``sum``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from onemap.indicators.quantities import Quantity, UnitError, parse_unit

__all__ = [
    "AREA_UNIT",
    "ChangeRate",
    "ClassArea",
    "ClassInZone",
    "ClassTransition",
    "Expr",
    "FieldSum",
    "FirstAvailable",
    "IndicatorRef",
    "InputRef",
    "LayerArea",
    "Ledger",
    "Monitor",
    "Ratio",
    "Ref",
    "Sum",
    "describe",
    "walk",
]

#: Unit of every spatial kind.
AREA_UNIT = "平方米"


def _shorthand(value: Any) -> Any:
    """A bare name is a reference (indicator code or input field)."""
    if isinstance(value, str):
        return {"kind": "ref", "name": value.strip()}
    return value


class _Expr(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = ""
    optional: bool = False
    missing_note: str = ""


class ClassArea(_Expr):
    """Σ TBDLMJ of the DLTB patches of a class selection."""

    kind: Literal["class_area"]
    dataset: str = "DLTB"
    classes: str | list[str]
    czcsxm: list[str] | None = None
    area_field: str = "TBDLMJ"


class ClassInZone(_Expr):
    """TBDLMJ share of a class selection inside a zone layer, or inside any of several.

    ``zone`` is one layer name or a list of them (e.g. 自然保护地 and 湿地公园 for the
    湿地保护率 口径); land inside several counts once.
    """

    kind: Literal["class_in_zone"]
    dataset: str = "DLTB"
    classes: str | list[str]
    czcsxm: list[str] | None = None
    zone: str | list[str] = Field(min_length=1)

    @property
    def zones(self) -> list[str]:
        """The zone layer names (one or several)."""
        return [self.zone] if isinstance(self.zone, str) else list(self.zone)


class ClassTransition(_Expr):
    """New ``to_classes`` land on former ``from_classes`` land (previous year's version)."""

    kind: Literal["class_transition"]
    dataset: str = "DLTB"
    from_classes: str | list[str]
    to_classes: str | list[str]


class LayerArea(_Expr):
    """Ellipsoidal area of a dissolved layer."""

    kind: Literal["layer_area"]
    dataset: str
    clip: bool = True


class FieldSum(_Expr):
    """Σ of an area field of a layer."""

    kind: Literal["field_sum"]
    dataset: str
    field: str
    unit: str = AREA_UNIT


class Monitor(_Expr):
    """Accountability figures of 卫片执法."""

    kind: Literal["monitor"]
    measure: Literal["illegal_farmland", "new_construction_farmland"]


class Ledger(_Expr):
    """Per-county status figures of the farmland ledgers (占补平衡 accounts, 进出平衡)."""

    kind: Literal["ledger"]
    measure: Literal["farmland_balance", "in_out"]


#: Unit of each ``ledger`` measure.
LEDGER_UNITS = {"farmland_balance": "个", "in_out": AREA_UNIT}


class InputRef(_Expr):
    """A field of the input form."""

    kind: Literal["input"]
    field: str


class IndicatorRef(_Expr):
    """Another indicator's value."""

    kind: Literal["indicator"]
    code: str


class Ref(_Expr):
    """A bare name: an indicator code or an input field (resolved by the registry)."""

    kind: Literal["ref"]
    name: str


class Ratio(_Expr):
    """``numerator ÷ denominator``."""

    kind: Literal["ratio"]
    numerator: ExprField
    denominator: ExprField
    if_zero: float | None = None


class Sum(_Expr):
    """Σ of terms."""

    kind: Literal["sum"]
    terms: list[ExprField] = Field(min_length=1)


class ChangeRate(_Expr):
    """Relative change since a base year."""

    kind: Literal["change_rate"]
    of: ExprField
    base_year: int = Field(ge=1900, le=2100)
    direction: Literal["increase", "decrease"] = "increase"


class FirstAvailable(_Expr):
    """The first option that has a value, per unit."""

    kind: Literal["first_available"]
    options: list[ExprField] = Field(min_length=1)


Expr = Annotated[
    ClassArea | ClassInZone | ClassTransition | LayerArea | FieldSum | Monitor | Ledger | InputRef
    | IndicatorRef | Ref | Ratio | Sum | ChangeRate | FirstAvailable,
    Field(discriminator="kind"),
]
ExprField = Annotated[Expr, BeforeValidator(_shorthand)]

for _model in (Ratio, Sum, ChangeRate, FirstAvailable):
    _model.model_rebuild()

#: Kinds that read map data.
SPATIAL_KINDS = frozenset(
    {"class_area", "class_in_zone", "class_transition", "layer_area", "field_sum", "monitor"}
)


def children(expr: Any) -> list[Any]:
    """Direct sub-formulas of a formula."""
    kind = expr.kind
    if kind == "ratio":
        return [expr.numerator, expr.denominator]
    if kind == "sum":
        return list(expr.terms)
    if kind == "change_rate":
        return [expr.of]
    if kind == "first_available":
        return list(expr.options)
    return []


def walk(expr: Any) -> Iterator[Any]:
    """Yield the formula and all its sub-formulas, depth first."""
    yield expr
    for child in children(expr):
        yield from walk(child)


def datasets(expr: Any) -> list[str]:
    """Datasets a formula reads (without those of referenced indicators)."""
    out: list[str] = []
    for node in walk(expr):
        names: list[str] = []
        if node.kind in ("class_area", "class_transition", "layer_area", "field_sum"):
            names = [node.dataset]
        elif node.kind == "class_in_zone":
            names = [node.dataset, *node.zones]
        for n in names:
            if n not in out:
                out.append(n)
    return out


def unit_of(expr: Any, ref_unit) -> Quantity:
    """Unit of a formula's result.

    Parameters
    ----------
    expr : Expr
        The formula.
    ref_unit : callable
        ``ref_unit(kind, name) -> Quantity`` for ``indicator``/``input``/``ref`` names.

    Raises
    ------
    UnitError
        If terms of a sum or options of a first_available have different dimensions.
    """
    kind = expr.kind
    if kind in ("class_area", "class_in_zone", "class_transition", "layer_area", "monitor"):
        return parse_unit(AREA_UNIT)
    if kind == "field_sum":
        return parse_unit(expr.unit)
    if kind == "ledger":
        return parse_unit(LEDGER_UNITS[expr.measure])
    if kind == "input":
        return ref_unit("input", expr.field)
    if kind == "indicator":
        return ref_unit("indicator", expr.code)
    if kind == "ref":
        return ref_unit("ref", expr.name)
    if kind == "ratio":
        return unit_of(expr.numerator, ref_unit) / unit_of(expr.denominator, ref_unit)
    if kind == "change_rate":
        unit_of(expr.of, ref_unit)
        return parse_unit("1")
    parts = expr.terms if kind == "sum" else expr.options
    units = [unit_of(p, ref_unit) for p in parts]
    for u in units[1:]:
        if u.dims != units[0].dims:
            what = "各项" if kind == "sum" else "各备选口径"
            raise UnitError(f"{kind} 的{what}单位不一致：{units[0].text} 与 {u.text}")
    return units[0]


def _classes_text(classes: str | list[str], czcsxm: list[str] | None, titles: dict[str, str]) -> str:
    if isinstance(classes, str):
        text = titles.get(classes, classes)
    else:
        text = "、".join(c.removeprefix("group:") for c in classes)
    if czcsxm:
        text += f"（城镇村属性码 {'/'.join(czcsxm)}）"
    return text


def describe(expr: Any, names: dict[str, str] | None = None, titles: dict[str, str] | None = None) -> str:
    """Chinese text of a formula, for reports.

    Parameters
    ----------
    expr : Expr
        The formula.
    names : dict, optional
        Indicator code / input field → Chinese name.
    titles : dict, optional
        Selection name → Chinese title.

    Returns
    -------
    str
    """
    names = names or {}
    titles = titles or {}
    kind = expr.kind

    def sub(e: Any) -> str:
        text = describe(e, names, titles)
        return f"（{text}）" if e.kind in ("ratio", "sum", "change_rate") else text

    if kind == "class_area":
        return f"Σ{expr.area_field}[{_classes_text(expr.classes, expr.czcsxm, titles)}]"
    if kind == "class_in_zone":
        zones = expr.zones
        zone_text = zones[0] if len(zones) == 1 else "（" + "∪".join(zones) + "）"
        return f"Σ{_classes_text(expr.classes, expr.czcsxm, titles)}∩{zone_text}"
    if kind == "class_transition":
        return (f"新增[{_classes_text(expr.to_classes, None, titles)}"
                f"←上年{_classes_text(expr.from_classes, None, titles)}]")
    if kind == "layer_area":
        return f"面积[{expr.dataset}]"
    if kind == "field_sum":
        return f"Σ{expr.dataset}.{expr.field}"
    if kind == "monitor":
        return {"illegal_farmland": "违法占用耕地面积（卫片执法）",
                "new_construction_farmland": "新增建设用地占用耕地面积（卫片执法）"}[expr.measure]
    if kind == "ledger":
        return {"farmland_balance": "耕地占补平衡账户余额为负的核算指标个数（数量、水田、产能）",
                "in_out": "耕地进出平衡缺口（当年流出 − 流入，不足为 0）"}[expr.measure]
    if kind == "input":
        return names.get(expr.field, expr.field)
    if kind == "indicator":
        return names.get(expr.code, expr.code)
    if kind == "ref":
        return names.get(expr.name, expr.name)
    if kind == "ratio":
        return f"{sub(expr.numerator)} ÷ {sub(expr.denominator)}"
    if kind == "sum":
        return " + ".join(sub(t) + ("（如有）" if t.optional else "") for t in expr.terms)
    if kind == "change_rate":
        of = sub(expr.of)
        if expr.direction == "decrease":
            return f"（{expr.base_year}年{of} − 当年{of}）÷ {expr.base_year}年{of}"
        return f"（当年{of} − {expr.base_year}年{of}）÷ {expr.base_year}年{of}"
    return " 或 ".join(describe(o, names, titles) for o in expr.options)
