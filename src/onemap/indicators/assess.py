"""The annual health check (体检) and the five-year evaluation (评估).

:func:`assess` computes every indicator of the registry for the city and
each county, for the assessment year and the years before it that have data
(the trend), compares it with its target and gives a status:

========  ==================================================================
达标      the target is met (and, for bottom lines, with room to spare)
预警      within the warning band of the target (see :class:`WarningRule`)
未达标    the target is missed by more than the band
缺少数据  no value (or no target where one is expected): the reasons say
          which layer, version, field or input is missing
仅监测    a value without a target (the indicator is only watched)
========  ==================================================================

Targets: a target for the year itself; else, before the target year, the
linear progress target between the base-year value and the target
(``progress: linear``); else the target of the plan's end; ``annual_target``
applies every year; ``target_input`` takes the target (a quota) from the
input form. City targets apply to counties only with ``target_units: all``.

The five-year evaluation (``period=(2021, 2025)``) takes the value of the
period's last year against the final target; indicators with
``period_rule: each_year`` (yearly targets such as 处置率 ≥ 20 %) are judged
on every year of the period, and the worst year decides.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from onemap.errors import InputError, WorkspaceError
from onemap.indicators.compute import Evaluator, UnitFrame, Values, version_year, workspace_units
from onemap.indicators.inputs import CITY, InputSet, stored_inputs
from onemap.indicators.quantities import convert
from onemap.indicators.registry import STATUSES, Indicator, Registry, load_registry

__all__ = ["Assessment", "IndicatorResult", "UnitResult", "assess", "judge", "parse_period"]

_WORST = {"未达标": 4, "缺少数据": 3, "预警": 2, "达标": 1, "仅监测": 0}


@dataclass
class UnitResult:
    """One indicator for one unit.

    Attributes
    ----------
    unit : str
        Unit key (``市域`` or a county code).
    code, name : str
        Display code (the city's region code) and name.
    level : str
        ``市域`` or ``县``.
    value : float or None
        Value in the assessment year (None when missing).
    target : float, list or None
        Target applied ([low, high] for 区间).
    target_year : int or None
        Year the target is for.
    target_kind : str
        规划目标 / 进度目标 / 每年目标 / 下达指标 …
    gap : float or None
        value − target (区间: distance outside the interval).
    status : str
        One of :data:`~onemap.indicators.registry.STATUSES`.
    reason : str
        Why this status (Chinese sentence).
    missing : list of str
        What is missing (status 缺少数据).
    notes : list of str
        How the value was made (versions substituted, options used …).
    series : dict
        Year → value (None when missing) over the trend years.
    trend : dict
        ``from_year, to_year, change, annual_change, direction, assessment``.
    yearly_status : dict
        Year → status, for the five-year evaluation of yearly targets.
    datasets, inputs : list of dict
        Dataset versions and input cells used in the assessment year.
    """

    unit: str
    code: str
    name: str
    level: str
    value: float | None = None
    target: float | list[float] | None = None
    target_year: int | None = None
    target_kind: str = ""
    gap: float | None = None
    status: str = "缺少数据"
    reason: str = ""
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    series: dict[int, float | None] = field(default_factory=dict)
    trend: dict[str, Any] = field(default_factory=dict)
    yearly_status: dict[int, str] = field(default_factory=dict)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class IndicatorResult:
    """One indicator for every unit."""

    code: str
    name: str
    dimension: str
    category: str
    level: str
    unit: str
    decimals: int
    polarity: str
    definition: str
    formula: str
    targets: str
    key: bool
    basis: str
    sources: list[str]
    units: list[UnitResult] = field(default_factory=list)

    @property
    def city(self) -> UnitResult | None:
        """The city row (None when the indicator is county-only)."""
        return next((u for u in self.units if u.unit == CITY), None)

    def fmt(self, v: float | None) -> str:
        """A value with the indicator's decimals (``—`` when missing)."""
        if v is None:
            return "—"
        return f"{v:,.{self.decimals}f}"

    def fmt_unit(self, v: float | list | None) -> str:
        """A value or interval with its unit."""
        if v is None:
            return "—"
        if isinstance(v, list | tuple):
            return f"{self.fmt(v[0])}～{self.fmt(v[1])}{self.unit_sep}{self.unit}"
        return f"{self.fmt(v)}{self.unit_sep}{self.unit}"

    def fmt_delta(self, v: float | None) -> str:
        """A difference with its unit (percentages as 个百分点)."""
        if v is None:
            return "—"
        return f"{self.fmt(v)} 个百分点" if self.unit == "%" else self.fmt_unit(v)

    @property
    def unit_sep(self) -> str:
        """No space before %, one before other units."""
        return "" if self.unit == "%" else " "


@dataclass
class Assessment:
    """Result of :func:`assess`.

    Attributes
    ----------
    kind : str
        ``体检`` (one year) or ``评估`` (a period).
    year : int
        Assessment year.
    period : tuple or None
        (start, end) of the five-year evaluation.
    series_years : list of int
        Years of the trend.
    city_code, city_name : str
        The city.
    counties : list of (code, name)
        Counties reported.
    generated_at : str
        When it was computed (UTC, ISO 8601).
    registry : dict
        Registry provenance (kind, path or import id, sha256, version).
    inputs : dict
        Input provenance (workspace imports merged, or the file).
    colours : dict
        Status → colour.
    plan : dict
        Plan name, base year, period.
    indicators : list of IndicatorResult
        In registry order.
    report : dict
        Report options of the registry (e.g. ``hotspot_indicator``).
    """

    kind: str
    year: int
    period: tuple[int, int] | None
    series_years: list[int]
    city_code: str
    city_name: str
    counties: list[tuple[str, str]]
    generated_at: str
    registry: dict[str, Any]
    inputs: dict[str, Any]
    colours: dict[str, str]
    plan: dict[str, Any]
    indicators: list[IndicatorResult] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """Report title."""
        if self.kind == "评估" and self.period:
            return f"{self.city_name}国土空间规划实施{self.period[0]}—{self.period[1]}年评估报告"
        return f"{self.city_name}国土空间规划实施{self.year}年度体检报告"

    def indicator(self, code: str) -> IndicatorResult:
        """Result of one indicator.

        Raises
        ------
        KeyError
            If it was not assessed.
        """
        for r in self.indicators:
            if r.code == code:
                return r
        raise KeyError(code)

    def summary(self) -> dict[str, Any]:
        """Status counts for the city rows and for all rows."""
        city = {s: 0 for s in STATUSES}
        all_rows = {s: 0 for s in STATUSES}
        for r in self.indicators:
            for u in r.units:
                all_rows[u.status] += 1
                if u.unit == CITY:
                    city[u.status] += 1
        return {"city": city, "all": all_rows, "indicators": len(self.indicators)}

    def warnings(self) -> list[dict[str, Any]]:
        """Rows with status 预警 or 未达标, the city first, worst first."""
        out = []
        for r in self.indicators:
            for u in r.units:
                if u.status in ("预警", "未达标"):
                    out.append({"code": r.code, "name": r.name, "unit": u.unit, "unit_code": u.code,
                                "unit_name": u.name, "status": u.status, "reason": u.reason,
                                "value": u.value, "target": u.target, "indicator_unit": r.unit})
        out.sort(key=lambda w: (-_WORST[w["status"]], w["unit"] != CITY))
        return out

    def missing(self) -> list[dict[str, Any]]:
        """Rows with status 缺少数据 and what is missing."""
        return [{"code": r.code, "name": r.name, "unit": u.unit, "unit_code": u.code,
                 "unit_name": u.name, "missing": list(u.missing)}
                for r in self.indicators for u in r.units if u.status == "缺少数据"]

    def datasets_used(self) -> list[dict[str, Any]]:
        """Every dataset version used by some value, sorted."""
        seen: dict[tuple, dict[str, Any]] = {}
        for r in self.indicators:
            for u in r.units:
                for d in u.datasets:
                    seen.setdefault((d["dataset"], str(d["version"])), d)
        return [seen[k] for k in sorted(seen)]

    def inputs_used(self) -> list[int]:
        """Input imports some value came from."""
        ids = {i.get("import_id") for r in self.indicators for u in r.units for i in u.inputs}
        return sorted(i for i in ids if i is not None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (years as string keys, NaN as None)."""

        def clean(obj: Any) -> Any:
            if isinstance(obj, dict):
                return {str(k): clean(v) for k, v in obj.items()}
            if isinstance(obj, list | tuple):
                return [clean(v) for v in obj]
            if isinstance(obj, float) and not math.isfinite(obj):
                return None
            if hasattr(obj, "item"):
                return obj.item()
            return obj

        d = {
            "kind": self.kind, "title": self.title, "year": self.year,
            "period": list(self.period) if self.period else None,
            "series_years": self.series_years, "city": {"code": self.city_code, "name": self.city_name},
            "counties": [{"code": c, "name": n} for c, n in self.counties],
            "generated_at": self.generated_at, "registry": self.registry, "inputs": self.inputs,
            "colours": self.colours, "plan": self.plan, "summary": self.summary(),
            "indicators": [asdict(r) for r in self.indicators],
            "warnings": self.warnings(), "missing": self.missing(),
            "datasets": self.datasets_used(), "input_imports": self.inputs_used(),
        }
        return clean(d)


# ---------------------------------------------------------------------------- status
def _band(ind: Indicator, target: float, default_band: float) -> float:
    w = ind.warning
    if w is not None and w.band_abs is not None:
        return w.band_abs
    band = w.band if (w is not None and w.band is not None) else default_band
    return abs(target) * band


def judge(value: float, target: float | tuple[float, float], polarity: str, margin: float,
          side: str = "unsafe") -> tuple[str, float]:
    """Status of a value against a target.

    Parameters
    ----------
    value : float
        The value.
    target : float or (float, float)
        The target (an interval for 区间).
    polarity : {"正向", "逆向", "区间"}
        Higher is better, lower is better, or inside is good.
    margin : float
        Warning band in the value's unit.
    side : {"unsafe", "safe"}
        ``unsafe``: missing by ≤ margin is 预警; ``safe``: meeting by < margin is 预警.

    Returns
    -------
    (str, float)
        Status (达标/预警/未达标) and gap (value − target; 区间: distance outside).

    Examples
    --------
    >>> judge(20.0, 20.46, "正向", 1.023)
    ('预警', -0.46000000000000085)
    >>> judge(15.5, 15.0, "逆向", 0.75, "safe")
    ('未达标', 0.5)
    """
    if polarity == "区间":
        lo, hi = target  # type: ignore[misc]
        gap = value - lo if value < lo else (value - hi if value > hi else 0.0)
        if side == "safe":
            if gap != 0:
                return "未达标", gap
            return ("预警" if (value - lo < margin or hi - value < margin) else "达标"), gap
        if gap == 0:
            return "达标", gap
        return ("预警" if abs(gap) <= margin else "未达标"), gap
    t = float(target)  # type: ignore[arg-type]
    gap = value - t
    better = gap if polarity == "正向" else -gap  # > 0: better than the target
    if side == "safe":
        if better < 0:
            return "未达标", gap
        return ("预警" if better < margin else "达标"), gap
    if better >= 0:
        return "达标", gap
    return ("预警" if -better <= margin else "未达标"), gap


def parse_period(text: str | tuple[int, int] | list[int] | None) -> tuple[int, int] | None:
    """Parse ``"2021-2025"`` (or a pair) into ``(2021, 2025)``.

    Raises
    ------
    InputError
        If it is not two years in order.
    """
    if text is None:
        return None
    if isinstance(text, list | tuple):
        a, b = int(text[0]), int(text[1])
    else:
        parts = str(text).replace("—", "-").replace("–", "-").replace("~", "-").split("-")
        try:
            a, b = (int(p) for p in parts)
        except ValueError as exc:
            raise InputError(f"评估期应写作 2021-2025：{text}") from exc
    if not (1900 <= a <= b <= 2100):
        raise InputError(f"评估期应为先后两个年份：{text}")
    return a, b


# ---------------------------------------------------------------------------- assessment
class _Assessor:
    def __init__(self, ev: Evaluator, registry: Registry, year: int,
                 period: tuple[int, int] | None):
        self.ev, self.reg, self.year, self.period = ev, registry, year, period
        self.units: UnitFrame = ev.units

    def target(self, ind: Indicator, key: str, y: int) -> tuple[Any, int | None, str, list[str]]:
        """(target, target year, kind, missing reasons)."""
        if ind.target_input:
            f = self.reg.inputs.field(ind.target_input)
            vals = self.ev.expr(_input_expr(ind.target_input), y)
            if key in vals.values:
                t = convert(vals.values[key], vals.unit, ind.quantity)
                return t, y, f"下达指标（{f.name}）", []
            return None, None, "", [f"缺少目标：{r}" for r in vals.missing.get(key, [])]
        if key != CITY and ind.target_units == "city":
            return None, None, "", []
        if ind.annual_target is not None:
            return _pair(ind.annual_target), y, "每年目标", []
        if not ind.targets:
            return None, None, "", []
        if y in ind.targets:
            return _pair(ind.targets[y]), y, "规划目标", []
        future = sorted(t for t in ind.targets if t > y)
        if future:
            t_year = future[0]
            t_val = ind.targets[t_year]
            if ind.progress == "linear" and ind.polarity != "区间" and self.period is None:
                y0 = ind.base.year if ind.base else self.reg.plan.base_year
                v0 = ind.base.value if ind.base and ind.base.value is not None else None
                if v0 is None and y0 < y:
                    v0 = self.ev.indicator(ind.code, y0).values.get(key)
                behind = v0 is not None and ((ind.polarity == "正向" and v0 < t_val)
                                             or (ind.polarity == "逆向" and v0 > t_val))
                if behind and y0 < y < t_year:
                    t = v0 + (t_val - v0) * (y - y0) / (t_year - y0)
                    return t, y, f"进度目标（{y0}年→{t_year}年目标 {t_val:g} 线性）", []
            return _pair(t_val), t_year, f"{t_year}年规划目标", []
        past = max(ind.targets)
        return _pair(ind.targets[past]), past, f"{past}年规划目标", []

    def status(self, ind: Indicator, res: IndicatorResult, key: str, y: int,
               vals: Values) -> tuple[str, str, Any, int | None, str, float | None, list[str]]:
        """(status, reason, target, target_year, target_kind, gap, missing)."""
        if key not in vals.values:
            missing = list(vals.missing.get(key, [])) or ["没有数据"]
            return "缺少数据", "缺少数据：" + "；".join(missing), None, None, "", None, missing
        value = vals.values[key]
        target, t_year, t_kind, t_missing = self.target(ind, key, y)
        if t_missing:
            return ("缺少数据", "；".join(t_missing), None, None, "", None, t_missing)
        if target is None:
            return "仅监测", "无目标值，仅监测", None, None, "", None, []
        mid = target if not isinstance(target, list) else (target[0] + target[1]) / 2
        margin = _band(ind, mid, self.reg.status.band)
        side = ind.warning.side if ind.warning else "unsafe"
        st, gap = judge(value, tuple(target) if isinstance(target, list) else target,
                        ind.polarity, margin, side)
        v_txt, t_txt = res.fmt_unit(value), res.fmt_unit(target)
        g_txt, m_txt = res.fmt_delta(abs(gap)), res.fmt_delta(margin)
        cmp = {"正向": "不低于", "逆向": "不高于", "区间": "位于"}[ind.polarity]
        goal = f"{cmp} {t_txt} 的{t_kind}"
        if st == "达标":
            reason = f"{y}年 {v_txt}，达到{goal}"
        elif st == "预警" and side == "safe":
            reason = f"{y}年 {v_txt}，虽达到{goal}，但余量仅 {g_txt}，小于预警范围 {m_txt}"
        elif st == "预警":
            reason = f"{y}年 {v_txt}，未达到{goal}，差距 {g_txt}，在预警范围 {m_txt}以内"
        else:
            reason = f"{y}年 {v_txt}，未达到{goal}，差距 {g_txt}"
        return st, reason, target, t_year, t_kind, gap, []

    def run(self, ind: Indicator, series_years: list[int]) -> IndicatorResult:
        reg = self.reg
        res = IndicatorResult(
            code=ind.code, name=ind.name, dimension=ind.dimension, category=ind.category,
            level=ind.level, unit=ind.unit, decimals=ind.decimals, polarity=ind.polarity,
            definition=ind.definition, formula=reg.formula_text(ind.code),
            targets=ind.targets_text(), key=ind.key, basis=ind.basis, sources=list(ind.sources))
        by_year = {y: self.ev.indicator(ind.code, y) for y in series_years}
        now = by_year[self.year]
        keys = [k for k in self.units.keys
                if k in now.values or k in now.missing or k in now.notes]
        for key in keys:
            u = UnitResult(unit=key, code=self.units.city_code if key == CITY else key,
                           name=self.units.name(key), level="市域" if key == CITY else "县")
            u.series = {y: by_year[y].values.get(key) for y in series_years}
            u.value = now.values.get(key)
            u.notes = list(now.notes.get(key, []))
            u.datasets = list(now.datasets)
            u.inputs = [i for i in now.inputs if i["unit"] == key
                        or (key == CITY and i["unit"] in self.units.counties)]
            (u.status, u.reason, u.target, u.target_year, u.target_kind, u.gap,
             u.missing) = self.status(ind, res, key, self.year, now)
            if self.period is not None and ind.period_rule == "each_year":
                self._each_year(ind, res, u, key)
            u.trend = _trend(u.series, ind.polarity, ind.decimals)
            res.units.append(u)
        return res

    def _each_year(self, ind: Indicator, res: IndicatorResult, u: UnitResult, key: str) -> None:
        start, end = self.period  # type: ignore[misc]
        bad: list[str] = []
        worst = u.status
        for y in range(start, min(end, self.year) + 1):
            vals = self.ev.indicator(ind.code, y)
            st, reason, *_rest = self.status(ind, res, key, y, vals)
            u.yearly_status[y] = st
            if st in ("未达标", "预警", "缺少数据"):
                bad.append(f"{y}年{st}" + (f"（{reason}）" if st == "缺少数据" else ""))
            if _WORST[st] > _WORST[worst]:
                worst = st
        if worst != u.status:
            u.status = worst
            u.reason = f"评估期内逐年考核：{'；'.join(bad)}"
            if worst == "缺少数据":
                u.missing = [b for b in bad if "缺少数据" in b]
        elif bad:
            u.reason += f"（评估期内：{'；'.join(bad)}）"


def _input_expr(code: str):
    from onemap.indicators.formula import InputRef

    return InputRef(kind="input", field=code)


def _pair(v: Any) -> Any:
    return [float(v[0]), float(v[1])] if isinstance(v, tuple | list) else float(v)


def _trend(series: dict[int, float | None], polarity: str, decimals: int) -> dict[str, Any]:
    pts = [(y, v) for y, v in sorted(series.items()) if v is not None]
    if len(pts) < 2:
        return {"points": len(pts), "direction": "—", "assessment": "—"}
    (y0, v0), (y1, v1) = pts[0], pts[-1]
    change = v1 - v0
    eps = 0.5 * 10 ** (-decimals)
    direction = "持平" if abs(change) < eps else ("上升" if change > 0 else "下降")
    if direction == "持平" or polarity == "区间":
        verdict = "持平" if direction == "持平" else "—"
    else:
        good = (change > 0) == (polarity == "正向")
        verdict = "向好" if good else "变差"
    return {"points": len(pts), "from_year": y0, "to_year": y1, "change": change,
            "annual_change": change / (y1 - y0), "direction": direction, "assessment": verdict}


def _default_year(ev: Evaluator, registry: Registry) -> int:
    years = [version_year(v.version) for v in ev.versions("DLTB")]
    years = [y for y in years if y is not None]
    if years:
        return max(years)
    if ev.inputs.years:
        return max(ev.inputs.years)
    raise WorkspaceError("工作空间既没有 DLTB 版本也没有填报数据，无法确定评估年份；请指定 --year")


def assess(
    store,
    year: int | None = None,
    period: str | tuple[int, int] | None = None,
    *,
    registry: Registry | None = None,
    inputs: InputSet | None = None,
    inputs_as_of: int | None = None,
    units: UnitFrame | None = None,
    codes: list[str] | None = None,
    monitor=None,
    ledger=None,
) -> Assessment:
    """Run the health check (one year) or the five-year evaluation (a period).

    Parameters
    ----------
    store : onemap.store.Store
        Workspace.
    year : int, optional
        Assessment year; default: the period's end, else the latest DLTB version.
    period : str or (int, int), optional
        ``"2021-2025"``: the five-year evaluation.
    registry : Registry, optional
        Default: :func:`load_registry` for this workspace.
    inputs : InputSet, optional
        Default: the inputs imported into the workspace (latest per cell).
    inputs_as_of : int, optional
        Use only imports up to this id (reproduce an earlier assessment).
    units : UnitFrame, optional
        Default: :func:`workspace_units`.
    codes : list of str, optional
        Only these indicators (and what they need).
    monitor : callable, optional
        ``monitor(year)`` → accountability dict (default: the monitor module).
    ledger : callable, optional
        ``ledger(measure, year)`` → farmland-ledger figures (see :class:`Evaluator`);
        built by :mod:`onemap.app.assessment`. Without it the ledger indicators have no data.

    Returns
    -------
    Assessment

    Raises
    ------
    onemap.errors.InputError
        If ``period`` is malformed or a code is unknown.
    onemap.errors.WorkspaceError
        If no year can be determined.
    """
    from onemap.store.catalog import now_iso

    reg = registry or load_registry(store=store)
    per = parse_period(period)
    data = inputs if inputs is not None else stored_inputs(store, as_of=inputs_as_of,
                                                           template=reg.inputs)
    frame = units or workspace_units(store, data)
    ev = Evaluator(store, reg, data, frame, monitor=monitor, ledger=ledger)
    if year is None:
        year = per[1] if per else _default_year(ev, reg)
    year = int(year)
    if per is not None:
        series_years = list(range(per[0] - 1, per[1] + 1))
        if year not in series_years:
            series_years.append(year)
        series_years = [y for y in series_years if y <= year]
    else:
        start = reg.plan.base_year
        series_years = sorted({y for y in ev.data_years() if start <= y < year} | {year})
    chosen = reg.indicators
    if codes:
        unknown = [c for c in codes if c not in reg]
        if unknown:
            raise InputError(f"指标库中没有：{'、'.join(unknown)}")
        chosen = [i for i in reg.indicators if i.code in codes]
    assessor = _Assessor(ev, reg, year, per)
    results = [assessor.run(ind, series_years) for ind in chosen]
    return Assessment(
        kind="评估" if per else "体检", year=year, period=per, series_years=series_years,
        city_code=frame.city_code, city_name=frame.city_name,
        counties=[(c, frame.name(c)) for c in frame.counties], generated_at=now_iso(),
        registry=dict(reg.source), inputs=dict(data.source), colours=dict(reg.status.colours),
        plan={"name": reg.plan.name, "base_year": reg.plan.base_year,
              "period": list(reg.plan.period)},
        indicators=results, report=dict(reg.file.report),
    )
