"""The indicator registry: ``indicators.yaml`` loaded, validated and resolved.

Which registry is used, first match wins:

1. an explicit path given to :func:`load_registry`;
2. the latest copy imported into the workspace with :func:`import_registry`
   (table ``indicator_registry``; each import appends an audit row listing
   the targets and warning rules it changed);
3. ``indicators.yaml`` in the directory named by ``ONEMAP_DOMAIN_DIR``;
4. the shipped ``onemap/indicators/data/indicators.yaml``.

Loading checks, besides the structure (pydantic): unique codes; every
reference names an indicator or an input field (and no name is both); no
indicator depends on itself; every class token and selection exists; the
unit of every formula converts to its indicator's unit; targets fit the
polarity (a pair for 区间, a number otherwise).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select

from onemap.errors import DomainDataError, Problem
from onemap.indicators import _files
from onemap.indicators import formula as fm
from onemap.indicators.inputs import InputTemplate, load_template
from onemap.indicators.quantities import Quantity, UnitError, convert, parse_unit, validated_unit

__all__ = [
    "DIMENSIONS",
    "STATUSES",
    "Indicator",
    "Registry",
    "import_registry",
    "load_registry",
]

REGISTRY_FILE = "indicators.yaml"
#: The six 一级 dimensions of TD/T 1063-2021, in report order.
DIMENSIONS = ("安全", "创新", "协调", "绿色", "开放", "共享")
#: Statuses of an indicator value, from best to worst plus the two without a verdict.
STATUSES = ("达标", "预警", "未达标", "缺少数据", "仅监测")

TargetValue = float | tuple[float, float]


class WarningRule(BaseModel):
    """When a value is 预警 rather than 达标 or 未达标.

    ``side: unsafe`` (default) — a value that misses the target by less than
    the band is 预警 (progress targets such as 森林覆盖率). ``side: safe`` — a
    value that meets the target by less than the band is 预警 (bottom lines
    such as 耕地保有量: close to the line is a warning, below it is a failure).
    The band is ``band_abs`` (in the indicator's unit) or ``band`` × |target|.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    band: float | None = Field(default=None, ge=0, le=1)
    band_abs: float | None = Field(default=None, ge=0)
    side: Literal["safe", "unsafe"] = "unsafe"


class BaseValue(BaseModel):
    """Base year of the plan and, if known, the value then (for progress targets)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int = Field(ge=1900, le=2100)
    value: float | None = None


class Indicator(BaseModel):
    """One indicator of the registry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    dimension: Literal["安全", "创新", "协调", "绿色", "开放", "共享"]
    category: str = ""
    level: Literal["基本", "推荐"]
    unit: str
    decimals: int = Field(default=2, ge=0, le=6)
    definition: str = Field(min_length=1)
    formula: fm.ExprField
    polarity: Literal["正向", "逆向", "区间"]
    scope: list[Literal["市域", "县"]] = Field(default_factory=lambda: ["市域", "县"], min_length=1)
    sources: list[str] = Field(default_factory=list)
    base: BaseValue | None = None
    targets: dict[int, TargetValue] = Field(default_factory=dict)
    annual_target: TargetValue | None = None
    target_input: str | None = None
    target_units: Literal["city", "all"] = "city"
    progress: Literal["linear", "none"] = "linear"
    warning: WarningRule | None = None
    period_rule: Literal["end_value", "each_year"] = "end_value"
    key: bool = False
    basis: str = ""
    note: str = ""

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        return validated_unit(v)

    @field_validator("definition", "basis", "note")
    @classmethod
    def _text(cls, v: str) -> str:
        return _files.join_cjk(v.strip())

    @model_validator(mode="after")
    def _targets_fit_polarity(self) -> Indicator:
        values = list(self.targets.values())
        if self.annual_target is not None:
            values.append(self.annual_target)
        for v in values:
            pair = isinstance(v, tuple)
            if self.polarity == "区间" and not pair:
                raise ValueError("区间指标的目标须为 [下限, 上限]")
            if self.polarity != "区间" and pair:
                raise ValueError(f"{self.polarity}指标的目标须为一个数")
            if pair and v[0] > v[1]:
                raise ValueError("区间目标的下限大于上限")
        if self.targets and self.annual_target is not None:
            raise ValueError("targets 与 annual_target 只能填一个")
        return self

    @property
    def quantity(self) -> Quantity:
        """Quantity: the parsed unit."""
        return parse_unit(self.unit)

    def targets_text(self) -> str:
        """Targets as text, e.g. ``2025年 ≥ 20.46%``."""
        sign = {"正向": "≥", "逆向": "≤", "区间": ""}[self.polarity]

        def fmt(v: TargetValue) -> str:
            if isinstance(v, tuple):
                return f"{v[0]:g}～{v[1]:g}{self.unit}"
            return f"{sign} {v:g}{'' if self.unit == '%' else ' '}{self.unit}"

        parts = [f"{y}年 {fmt(v)}" for y, v in sorted(self.targets.items())]
        if self.annual_target is not None:
            parts.append(f"每年 {fmt(self.annual_target)}")
        if self.target_input:
            parts.append(f"按填报的下达指标（{sign}）")
        return "；".join(parts)


class Selection(BaseModel):
    """A named class selection (classes and optional 城镇村属性码)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = ""
    classes: list[str] = Field(min_length=1)
    czcsxm: list[str] | None = None
    note: str = ""


class StatusConfig(BaseModel):
    """Shared status rules: warning band and colours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    band: float = Field(default=0.05, ge=0, le=1)
    colours: dict[str, str] = Field(default_factory=lambda: {
        "达标": "#2E7D32", "预警": "#F9A825", "未达标": "#C62828", "缺少数据": "#9E9E9E",
        "仅监测": "#5B7A99"})

    @field_validator("colours")
    @classmethod
    def _colours(cls, v: dict[str, str]) -> dict[str, str]:
        import re

        missing = [s for s in STATUSES if s not in v]
        if missing:
            raise ValueError(f"缺少状态颜色：{'、'.join(missing)}")
        unknown = [s for s in v if s not in STATUSES]
        if unknown:
            raise ValueError(f"未知状态：{'、'.join(unknown)}（可用：{'、'.join(STATUSES)}）")
        for k, c in v.items():
            if not re.fullmatch(r"#?[0-9A-Fa-f]{6}", c):
                raise ValueError(f"{k} 的颜色 {c!r} 应为 #RRGGBB")
        return {k: "#" + c.lstrip("#").upper() for k, c in v.items()}


class Plan(BaseModel):
    """The plan the targets come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    base_year: int = Field(default=2020, ge=1900, le=2100)
    period: tuple[int, int] = (2021, 2025)


class RegistryFile(BaseModel):
    """The whole ``indicators.yaml``."""

    model_config = ConfigDict(extra="forbid")

    version: str
    source: str = ""
    plan: Plan = Field(default_factory=Plan)
    status: StatusConfig = Field(default_factory=StatusConfig)
    report: dict[str, Any] = Field(default_factory=dict)
    selections: dict[str, Selection] = Field(default_factory=dict)
    indicators: list[Indicator] = Field(min_length=1)


@dataclass
class Registry:
    """A validated registry with its input form and lookups.

    Attributes
    ----------
    file : RegistryFile
        The parsed file.
    inputs : InputTemplate
        The input form the formulas refer to.
    source : dict
        Where it came from: ``kind`` (file/workspace/override/shipped), ``path``
        or ``import_id``, ``sha256``, ``version``.
    """

    file: RegistryFile
    inputs: InputTemplate
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_code = {i.code: i for i in self.file.indicators}
        self._selection_codes: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {}

    # -- lookups ---------------------------------------------------------------
    @property
    def indicators(self) -> list[Indicator]:
        """Indicators in file order."""
        return list(self.file.indicators)

    @property
    def status(self) -> StatusConfig:
        """Shared status rules."""
        return self.file.status

    @property
    def plan(self) -> Plan:
        """The plan (base year, period)."""
        return self.file.plan

    def get(self, code: str) -> Indicator:
        """Return an indicator by code.

        Raises
        ------
        KeyError
            If there is none.
        """
        if code not in self._by_code:
            raise KeyError(f"没有指标 {code}")
        return self._by_code[code]

    def __contains__(self, code: str) -> bool:
        return code in self._by_code

    def names(self) -> dict[str, str]:
        """Indicator codes and input fields → Chinese names."""
        out = {f.code: f.name for f in self.inputs.fields}
        out.update({i.code: i.name for i in self.file.indicators})
        return out

    def selection_titles(self) -> dict[str, str]:
        """Selection name → title."""
        return {k: (s.title or k) for k, s in self.file.selections.items()}

    def resolve_classes(self, classes: str | list[str],
                        czcsxm: list[str] | None = None) -> tuple[frozenset[str], frozenset[str] | None]:
        """Resolve a class selection to (DLBM codes, CZCSXM codes or None).

        Parameters
        ----------
        classes : str or list of str
            A selection name, or class tokens (set name, ``group:<name>``, DLBM).
        czcsxm : list of str, optional
            Extra 城镇村属性码 filter (combined with the selection's).

        Raises
        ------
        KeyError
            If a token is unknown.
        """
        from onemap.domain import land_classes

        lc = land_classes()
        czc: set[str] | None = set(czcsxm) if czcsxm else None
        if isinstance(classes, str):
            if classes not in self.file.selections:
                raise KeyError(f"没有名为 {classes} 的地类选择（selections）")
            sel = self.file.selections[classes]
            tokens = sel.classes
            if sel.czcsxm:
                czc = set(sel.czcsxm) if czc is None else czc & set(sel.czcsxm)
        else:
            tokens = classes
        codes: set[str] = set()
        for tok in tokens:
            if tok.startswith("group:"):
                try:
                    codes.update(lc.bulletin_group_codes(tok.removeprefix("group:")))
                except KeyError as exc:
                    raise KeyError(f"没有统计分组 {tok.removeprefix('group:')}") from exc
            elif tok in lc.set_names:
                codes.update(lc.code_set(tok))
            elif lc.is_valid(tok):
                codes.add(tok)
            else:
                raise KeyError(f"未知地类或地类集合：{tok}（可用集合：{'、'.join(lc.set_names)}；"
                               "或 group:分组名；或三调地类编码）")
        return frozenset(codes), (frozenset(czc) if czc is not None else None)

    def ref_kind(self, name: str) -> str:
        """``"indicator"`` or ``"input"`` for a bare name.

        Raises
        ------
        KeyError
            If the name is neither.
        """
        if name in self._by_code:
            return "indicator"
        if name in self.inputs.codes:
            return "input"
        raise KeyError(f"引用 {name} 既不是指标代码也不是填报字段")

    def ref_unit(self, kind: str, name: str) -> Quantity:
        """Unit of a referenced indicator or input."""
        if kind == "ref":
            kind = self.ref_kind(name)
        if kind == "indicator":
            return self.get(name).quantity
        try:
            return parse_unit(self.inputs.field(name).unit)
        except KeyError as exc:
            raise KeyError(f"没有填报字段 {name}") from exc

    def dependencies(self, code: str) -> list[str]:
        """Indicators a formula refers to, directly."""
        out: list[str] = []
        for node in fm.walk(self.get(code).formula):
            name = None
            if node.kind == "indicator":
                name = node.code
            elif node.kind == "ref" and self.ref_kind(node.name) == "indicator":
                name = node.name
            if name and name not in out:
                out.append(name)
        return out

    def inputs_of(self, code: str, *, deep: bool = True) -> list[str]:
        """Input fields an indicator uses (with those of referenced indicators)."""
        out: list[str] = []
        ind = self.get(code)
        for node in fm.walk(ind.formula):
            name = None
            if node.kind == "input":
                name = node.field
            elif node.kind == "ref" and self.ref_kind(node.name) == "input":
                name = node.name
            if name and name not in out:
                out.append(name)
        if ind.target_input and ind.target_input not in out:
            out.append(ind.target_input)
        if deep:
            for dep in self.dependencies(code):
                out += [x for x in self.inputs_of(dep) if x not in out]
        return out

    def datasets_of(self, code: str) -> list[str]:
        """Datasets an indicator reads (with those of referenced indicators)."""
        out = fm.datasets(self.get(code).formula)
        if any(n.kind == "monitor" for n in fm.walk(self.get(code).formula)):
            out.append("卫片执法判定（BHTB/BHTBPD）")
        for dep in self.dependencies(code):
            out += [x for x in self.datasets_of(dep) if x not in out]
        return out

    def formula_text(self, code: str) -> str:
        """Chinese text of an indicator's formula."""
        return fm.describe(self.get(code).formula, self.names(), self.selection_titles())

    def order(self) -> list[str]:
        """Indicator codes with every dependency before its dependants."""
        done: list[str] = []
        seen: set[str] = set()

        def visit(c: str) -> None:
            if c in seen:
                return
            seen.add(c)
            for d in self.dependencies(c):
                visit(d)
            done.append(c)

        for ind in self.file.indicators:
            visit(ind.code)
        return done

    def targets_snapshot(self) -> dict[str, dict[str, Any]]:
        """Targets and warning rules per indicator (what an audit row records)."""
        return {i.code: {"targets": {str(k): v for k, v in i.targets.items()},
                         "annual_target": i.annual_target, "target_input": i.target_input,
                         "target_units": i.target_units, "polarity": i.polarity,
                         "warning": i.warning.model_dump() if i.warning else None}
                for i in self.file.indicators}

    # -- checks ----------------------------------------------------------------
    def check(self, where: str) -> None:
        """Cross-check references, units, cycles and class tokens.

        Raises
        ------
        DomainDataError
            Naming the file and the indicator.
        """
        def fail(code: str | None, msg: str, key: str | None = None) -> DomainDataError:
            return DomainDataError(
                f"指标库 {where} 有误：{code + ' ' if code else ''}{msg}",
                [Problem("indicator_registry", msg, file=where, row=code, field=key)])

        seen: set[str] = set()
        for ind in self.file.indicators:
            if ind.code in seen:
                raise fail(ind.code, "指标代码重复", "code")
            seen.add(ind.code)
        clash = sorted(seen & set(self.inputs.codes))
        if clash:
            raise fail(clash[0], "指标代码与填报字段代码重名", "code")
        for name, sel in self.file.selections.items():
            try:
                self.resolve_classes(sel.classes, sel.czcsxm)
            except KeyError as exc:
                raise fail(None, f"地类选择 {name}：{exc.args[0]}", "selections") from exc
        for ind in self.file.indicators:
            for node in fm.walk(ind.formula):
                try:
                    if node.kind in ("class_area", "class_in_zone"):
                        self.resolve_classes(node.classes, node.czcsxm)
                    elif node.kind == "class_transition":
                        self.resolve_classes(node.from_classes)
                        self.resolve_classes(node.to_classes)
                    elif node.kind == "ref":
                        self.ref_kind(node.name)
                    elif node.kind == "indicator":
                        self.get(node.code)
                    elif node.kind == "input":
                        self.inputs.field(node.field)
                except KeyError as exc:
                    msg = exc.args[0] if exc.args else str(exc)
                    if node.kind == "input":
                        msg = f"没有填报字段 {node.field}"
                    raise fail(ind.code, f"公式引用有误：{msg}", "formula") from exc
            if ind.target_input:
                try:
                    tq = parse_unit(self.inputs.field(ind.target_input).unit)
                except KeyError as exc:
                    raise fail(ind.code, f"target_input 没有填报字段 {ind.target_input}",
                               "target_input") from exc
                try:
                    convert(1.0, tq, ind.quantity)
                except UnitError as exc:
                    raise fail(ind.code, f"目标字段单位不符：{exc}", "target_input") from exc
        # cycles
        state: dict[str, int] = {}

        def visit(c: str, path: list[str]) -> None:
            if state.get(c) == 2:
                return
            if state.get(c) == 1:
                cyc = path[path.index(c):] + [c]
                raise fail(c, f"指标循环引用：{' → '.join(cyc)}", "formula")
            state[c] = 1
            for d in self.dependencies(c):
                visit(d, path + [c])
            state[c] = 2

        for ind in self.file.indicators:
            visit(ind.code, [])
        for ind in self.file.indicators:
            try:
                got = fm.unit_of(ind.formula, self.ref_unit)
                convert(1.0, got, ind.quantity)
            except UnitError as exc:
                raise fail(ind.code, f"公式结果的单位不能换算为指标单位 {ind.unit}：{exc}",
                           "unit") from exc


@lru_cache(maxsize=16)
def _parse(text: str, where: str, inputs_key: str) -> RegistryFile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DomainDataError(f"指标库 {where} 不是有效的 YAML：{exc}",
                              [Problem("indicator_registry", str(exc), file=where)]) from exc
    if not isinstance(data, dict):
        raise DomainDataError(f"指标库 {where} 顶层应为键值表",
                              [Problem("indicator_registry", "顶层应为键值表", file=where)])
    try:
        return RegistryFile.model_validate(data)
    except ValidationError as exc:
        raise _files.validation_error(where, "指标库", exc, data, "indicators") from exc


def parse_registry(text: str, where: str, *, inputs: InputTemplate | None = None,
                   source: dict[str, Any] | None = None) -> Registry:
    """Parse and check registry text.

    Parameters
    ----------
    text : str
        YAML text.
    where : str
        Name used in error messages (file path or workspace import).
    inputs : InputTemplate, optional
        Input form (default: :func:`onemap.indicators.inputs.load_template`).
    source : dict, optional
        Provenance to record.

    Raises
    ------
    DomainDataError
        If the text is not a valid registry.
    """
    tpl = inputs or load_template()
    parsed = _parse(text, where, tpl.version)
    reg = Registry(parsed, tpl, {**(source or {}), "where": where,
                                 "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                                 "version": parsed.version})
    reg.check(where)
    return reg


# ---------------------------------------------------------------------------- workspace copies
_metadata = MetaData()

registry_table = Table(
    "indicator_registry",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("imported_at", Text, nullable=False),
    Column("actor", Text, nullable=False, default=""),
    Column("source_file", Text, nullable=False, default=""),
    Column("sha256", Text, nullable=False),
    Column("version", Text, nullable=False, default=""),
    Column("text", Text, nullable=False),
)


def ensure_tables(engine) -> None:
    """Create the tables of workspace registry copies if they do not exist."""
    _metadata.create_all(engine, checkfirst=True)


def _latest_copy(store) -> Any:
    engine = store.sql_engine()
    _metadata.create_all(engine, checkfirst=True)
    with engine.connect() as conn:
        return conn.execute(select(registry_table).order_by(registry_table.c.id.desc())
                            .limit(1)).first()


def load_registry(path: str | Path | None = None, *, store=None) -> Registry:
    """Load the registry that applies (see the module docstring for the order).

    Parameters
    ----------
    path : str or Path, optional
        An explicit ``indicators.yaml``.
    store : onemap.store.Store, optional
        Workspace whose imported copy (if any) is used.

    Returns
    -------
    Registry

    Raises
    ------
    DomainDataError
        If the registry is invalid (the message names the file and indicator).
    """
    if path is not None:
        p = _files.resolve(REGISTRY_FILE, path)
        return parse_registry(p.read_text(encoding="utf-8"), str(p),
                              source={"kind": "file", "path": str(p)})
    if store is not None:
        row = _latest_copy(store)
        if row is not None:
            return parse_registry(row.text, f"工作空间指标库（导入批次 {row.id}）",
                                  source={"kind": "workspace", "import_id": row.id,
                                          "source_file": row.source_file})
    p = _files.resolve(REGISTRY_FILE)
    kind = "shipped" if p.parent == _files.SHIPPED_DIR else "override"
    return parse_registry(p.read_text(encoding="utf-8"), str(p), source={"kind": kind, "path": str(p)})


def import_registry(store, path: str | Path, actor: str = "") -> dict[str, Any]:
    """Validate an edited ``indicators.yaml`` and make it the workspace's registry.

    The previous copies stay in the table; one audit row records, per
    indicator whose targets or warning rules changed, the rules before and after.

    Parameters
    ----------
    store : onemap.store.Store
        Workspace.
    path : str or Path
        The edited registry.
    actor : str
        Who imports it.

    Returns
    -------
    dict
        ``{"import_id", "version", "sha256", "changed": [codes]}``.

    Raises
    ------
    DomainDataError
        If the file is not a valid registry (nothing is stored).
    """
    from onemap.store import audit
    from onemap.store.catalog import now_iso

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    new = parse_registry(text, str(p))
    old = load_registry(store=store)
    before, after = old.targets_snapshot(), new.targets_snapshot()
    changed = sorted(c for c in set(before) | set(after) if before.get(c) != after.get(c))
    engine = store.sql_engine()
    _metadata.create_all(engine, checkfirst=True)
    audit.ensure_tables(engine)
    with engine.begin() as conn:
        res = conn.execute(insert(registry_table).values(
            imported_at=now_iso(), actor=actor or "", source_file=p.name,
            sha256=new.source["sha256"], version=new.file.version, text=text))
        import_id = int(res.inserted_primary_key[0])
        audit.append(conn, actor or "unknown", "indicator.registry.import", "indicator_registry",
                     import_id, {c: before.get(c) for c in changed},
                     {c: after.get(c) for c in changed})
    return {"import_id": import_id, "version": new.file.version, "sha256": new.source["sha256"],
            "changed": changed}
