"""Use-control rules (用途管制规则) as data, and the tiny interpreter that applies them.

A rule file (``control/data/rules.yaml``, edited by the bureau) holds rules;
each rule is a decision list of outcomes, the first whose condition holds
gives the verdict and the reason. Conditions are plain YAML mappings of a few
kinds (see :func:`evaluate_condition`), never Python expressions, so a rule
file can be edited safely and validated on load.

Facts are the numbers a check computes, flat and named by dotted paths
(``layer.STBHHX.area_m2``); see the header of ``rules.yaml`` for the list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from onemap.domain import sources
from onemap.domain.ecology import ecology_rules
from onemap.errors import DomainDataError, InputError, Problem

__all__ = [
    "VERDICTS",
    "Facts",
    "RuleSet",
    "Verdict",
    "evaluate_condition",
    "load_rules",
    "render_reason",
]

#: Verdicts, best first.
VERDICTS = ("符合", "需论证", "不符合")

DATA_DIR = sources.SHIPPED_DIRS["control"]
DEFAULT_RULES = DATA_DIR / "rules.yaml"
#: Environment variable of the bureau's directory of edited domain tables (as onemap.domain).
ENV_OVERRIDE_DIR = sources.ENV_OVERRIDE_DIR


def bureau_file(name: str, path: str | Path | None = None) -> Path:
    """The control table to read: ``path``, else the ``ONEMAP_DOMAIN_DIR`` copy, else the shipped one.

    Raises
    ------
    onemap.errors.DomainDataError
        If ``path`` is not a file or the override directory is invalid (the message names the path).
    """
    return sources.resolve("control", name, path)

_OPS = {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}
_KINDS = ("fact", "use", "flag", "activity", "all", "any", "not")
_NAME = r"[^\s.{}:]+"
_FACT_PATTERNS = [
    re.compile(p)
    for p in (
        r"site\.area_(m2|ha|mu)",
        r"extent\.(outside|inside)_(m2|ha|mu)",
        r"extent\.outside_ratio",
        rf"dlbm\.{_NAME}\.(area|tbdlmj)_(m2|ha|mu)",
        rf"group\.{_NAME}\.(area|tbdlmj)_(m2|ha|mu)",
        r"cultivated\.(area|tbdlmj)_(m2|ha|mu)",
        r"cultivated\.slope\.[0-9]+\.(area|tbdlmj)_(m2|ha|mu)",
        rf"layer\.{_NAME}\.(area|outside)_(m2|ha|mu)",
        rf"layer\.{_NAME}\.count",
        rf"layer\.{_NAME}\.group\.{_NAME}\.area_(m2|ha|mu)",
        rf"layer\.{_NAME}\.(nearest|buffer)_m",
    )
]
_TEXT_FACTS = [re.compile(p) for p in (
    r"use", r"site\.name", rf"layer\.{_NAME}\.(ids|title|features)",
    rf"layer\.{_NAME}\.group\.{_NAME}\.ids", r"activity")]
_LAYER_OF = re.compile(rf"^layer\.({_NAME})\.")
_PLACEHOLDER = re.compile(r"\{([^{}:]+)(?::([^{}]*))?\}")
_FOLD = re.compile(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])")
_UNIT = {"_ha": 1e4, "_mu": 10000.0 / 15.0}

Verdict = Literal["符合", "需论证", "不符合"]


def _tidy(text: str) -> str:
    """Join lines of a YAML block: drop the spaces folding left between Chinese characters."""
    return _FOLD.sub("", " ".join(text.split()))


def _is_fact(name: str, *, text_ok: bool = False) -> bool:
    pats = _FACT_PATTERNS + (_TEXT_FACTS if text_ok else [])
    return any(p.fullmatch(name) for p in pats)


class Outcome(BaseModel):
    """One entry of a rule's decision list."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    when: dict[str, Any] | None = None
    verdict: Verdict
    reason: str = Field(min_length=1)

    @field_validator("reason")
    @classmethod
    def _fold(cls, v: str) -> str:
        return _tidy(v)


class Rule(BaseModel):
    """One use-control rule."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    title: str = Field(min_length=1)
    basis: str = ""
    source: str = ""
    advice: dict[Verdict, str] = Field(default_factory=dict)
    uses: list[str] | None = None
    missing_layer_verdict: Verdict = "需论证"
    outcomes: list[Outcome] = Field(min_length=1)

    @field_validator("basis", "title", "source")
    @classmethod
    def _fold(cls, v: str) -> str:
        return _tidy(v)

    @field_validator("advice")
    @classmethod
    def _fold_advice(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: _tidy(t) for k, t in v.items()}

    _layers: frozenset[str] | None = PrivateAttr(default=None)

    def layers(self) -> frozenset[str]:
        """Datasets whose facts the rule reads (conditions and reasons); computed once."""
        if self._layers is None:
            self._layers = frozenset(self._find_layers())
        return self._layers

    def _find_layers(self) -> set[str]:
        names: set[str] = set()
        for o in self.outcomes:
            names |= {m.group(1) for f in _condition_facts(o.when) if (m := _LAYER_OF.match(f))}
            for ph in _PLACEHOLDER.finditer(o.reason):
                if m := _LAYER_OF.match(ph.group(1).strip()):
                    names.add(m.group(1))
        return names


class RuleSet(BaseModel):
    """A whole rule file.

    Attributes
    ----------
    rules : list of Rule
    uses : list of str
        Known intended uses (拟用途).
    default_use : str
        Use assumed when the caller gives none.
    flags : dict
        Known project flags → explanation.
    tolerance_m2 : float
        Area facts below this count as 0 in conditions.
    """

    model_config = ConfigDict(extra="forbid")

    version: str
    tolerance_m2: float = Field(default=1.0, ge=0)
    uses: list[str] = Field(min_length=1)
    default_use: str
    flags: dict[str, str] = Field(default_factory=dict)
    rules: list[Rule] = Field(min_length=1)
    source: str = ""

    def check_use(self, use: str | None) -> str:
        """Return the use to apply (the default when None).

        Raises
        ------
        onemap.errors.InputError
            If the use is not one of :attr:`uses`.
        """
        if use is None or use == "":
            return self.default_use
        if use not in self.uses:
            msg = f"未知的拟用途“{use}”；可选：{'、'.join(self.uses)}"
            raise InputError(msg, [Problem("unknown_use", msg, field="use")])
        return use

    def check_flags(self, flags: list[str] | tuple[str, ...] | set[str] | None) -> list[str]:
        """Return the flags, refusing unknown ones.

        Raises
        ------
        onemap.errors.InputError
            If a flag is not declared in the rule file.
        """
        out = []
        for f in flags or []:
            if f not in self.flags:
                msg = f"未知的项目标记“{f}”；可选：{'、'.join(self.flags) or '无'}"
                raise InputError(msg, [Problem("unknown_flag", msg, field="flag")])
            out.append(f)
        return out


    def check_activity(self, activity: str | None) -> str | None:
        """Return the declared activity (None when none), refusing unknown ones.

        Raises
        ------
        onemap.errors.InputError
            If the activity is not one of ``domain/data/ecology.yaml``.
        """
        if activity is None or activity == "":
            return None
        names = ecology_rules().names()
        if activity not in names:
            msg = f"未知的活动类型“{activity}”（ecology.yaml）；可选：{'、'.join(names)}"
            raise InputError(msg, [Problem("unknown_activity", msg, field="activity")])
        return activity


def _condition_facts(cond: Any) -> list[str]:
    if not isinstance(cond, Mapping):
        return []
    if "fact" in cond:
        return [str(cond["fact"])]
    out: list[str] = []
    for key in ("all", "any"):
        for c in cond.get(key, []) or []:
            out += _condition_facts(c)
    if "not" in cond:
        out += _condition_facts(cond["not"])
    return out


def _validate_condition(cond: Any, where: str, uses: list[str], flags: Mapping[str, str]) -> None:
    """Raise ValueError (Chinese) if a condition is malformed."""
    if not isinstance(cond, Mapping) or not cond:
        raise ValueError(f"{where}：条件应为非空映射，而不是 {cond!r}")
    kinds = [k for k in cond if k in _KINDS]
    if len(kinds) != 1:
        raise ValueError(f"{where}：条件须且只能含 {', '.join(_KINDS)} 之一，实际为 {list(cond)}")
    kind = kinds[0]
    if kind == "fact":
        name = str(cond["fact"])
        if not _is_fact(name):
            raise ValueError(f"{where}：未知的事实名 {name}")
        ops = [k for k in cond if k != "fact"]
        if len(ops) != 1 or ops[0] not in _OPS:
            raise ValueError(f"{where}：fact 条件须有且只有一个比较 {'/'.join(_OPS)}，实际为 {ops}")
        value = cond[ops[0]]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}：{ops[0]} 的值须为数字，而不是 {value!r}")
        return
    extra = [k for k in cond if k != kind]
    if extra:
        raise ValueError(f"{where}：{kind} 条件不能再有 {extra}")
    value = cond[kind]
    if kind == "use":
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}：use 须为用途或用途列表")
        unknown = [v for v in values if v not in uses]
        if unknown:
            raise ValueError(f"{where}：未知的拟用途 {unknown}（uses 中没有）")
    elif kind == "activity":
        eco = ecology_rules()
        known = set(eco.names()) | set(eco.lists())
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}：activity 须为活动名称、清单名称或其列表")
        unknown = [v for v in values if v not in known]
        if unknown:
            raise ValueError(f"{where}：未知的活动或清单 {unknown}（见 ecology.yaml）")
    elif kind == "flag":
        if value not in flags:
            raise ValueError(f"{where}：未知的项目标记 {value!r}（flags 中没有）")
    elif kind in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"{where}：{kind} 须为非空条件列表")
        for i, c in enumerate(value):
            _validate_condition(c, f"{where}.{kind}[{i}]", uses, flags)
    else:  # not
        _validate_condition(value, f"{where}.not", uses, flags)


def _validate_reason(text: str, where: str) -> None:
    for m in _PLACEHOLDER.finditer(text):
        name, spec = m.group(1).strip(), m.group(2)
        if not _is_fact(name, text_ok=True):
            raise ValueError(f"{where}：理由模板中的未知事实 {{{name}}}")
        if spec:
            try:
                format(1.0, spec)
            except ValueError as exc:
                raise ValueError(f"{where}：格式 {spec!r} 无效（{exc}）") from exc


def _validate(ruleset: RuleSet) -> None:
    if ruleset.default_use not in ruleset.uses:
        raise ValueError(f"default_use {ruleset.default_use!r} 不在 uses 中")
    seen: set[str] = set()
    for rule in ruleset.rules:
        where = f"规则 {rule.id}"
        if rule.id in seen:
            raise ValueError(f"{where}：id 重复")
        seen.add(rule.id)
        for u in rule.uses or []:
            if u not in ruleset.uses:
                raise ValueError(f"{where}：uses 中的 {u!r} 不在顶层 uses 中")
        for i, o in enumerate(rule.outcomes):
            w = f"{where} outcomes[{i}]"
            last = i == len(rule.outcomes) - 1
            if o.when is None and not last:
                raise ValueError(f"{w}：只有最后一项可以没有 when（默认结论）")
            if o.when is not None:
                _validate_condition(o.when, w + ".when", ruleset.uses, ruleset.flags)
            _validate_reason(o.reason, w + ".reason")
        if rule.outcomes[-1].when is not None:
            raise ValueError(f"{where}：最后一项须没有 when，作为默认结论")


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> RuleSet:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DomainDataError(f"无法读取规则文件 {p.name}：{exc}",
                              [Problem("rules_file", str(exc), file=p.name)]) from exc
    try:
        ruleset = RuleSet.model_validate(raw)
        _validate(ruleset)
    except ValidationError as exc:
        problems = [
            Problem("rules_schema", f"{'.'.join(str(x) for x in e['loc'])}：{e['msg']}",
                    file=p.name)
            for e in exc.errors()
        ]
        raise DomainDataError(f"规则文件 {p.name} 格式错误", problems) from exc
    except ValueError as exc:
        raise DomainDataError(f"规则文件 {p.name} 有误：{exc}",
                              [Problem("rules_schema", str(exc), file=p.name)]) from exc
    return ruleset


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load and validate a rule file (the shipped ``rules.yaml`` by default).

    Parameters
    ----------
    path : str or Path, optional
        A bureau's own rule file. By default ``rules.yaml`` in the directory
        named by ``ONEMAP_DOMAIN_DIR`` when it has one (the bureau's edited
        domain tables), else the shipped file.

    Returns
    -------
    RuleSet

    Raises
    ------
    onemap.errors.DomainDataError
        If the file is unreadable or any rule, condition or reason template is
        malformed (the message names the rule and the place).
    """
    p = bureau_file("rules.yaml", path)
    return _load_cached(str(p.resolve()), p.stat().st_mtime)


# ---------------------------------------------------------------------------
# evaluation


@dataclass
class Facts:
    """The facts of one check, as the rules see them.

    Attributes
    ----------
    numbers : dict
        Dotted name → number (areas in m², ``*_m2``).
    texts : dict
        Dotted name → text (``use``, ``layer.X.ids``, ``layer.X.title``).
    use : str
        Intended use.
    flags : set of str
        Project flags declared by the caller.
    missing_layers : dict
        Dataset → title of check layers absent from the workspace.
    tolerance_m2 : float
        Area facts below this count as 0 in conditions.
    """

    numbers: dict[str, float]
    texts: dict[str, str]
    use: str
    flags: set[str]
    missing_layers: dict[str, str]
    tolerance_m2: float = 1.0
    activity: str | None = None

    def number(self, name: str, *, for_condition: bool = False) -> float:
        """Value of a numeric fact; unit suffixes ``_ha``/``_mu`` derive from ``_m2``."""
        value: float
        if name in self.numbers:
            value = self.numbers[name]
        else:
            for suffix, factor in _UNIT.items():
                if name.endswith(suffix):
                    base = name[: -len(suffix)] + "_m2"
                    value = self.numbers.get(base, 0.0) / factor
                    if for_condition and abs(self.numbers.get(base, 0.0)) < self.tolerance_m2:
                        return 0.0
                    return value
            value = 0.0
        if for_condition and name.endswith("_m2") and abs(value) < self.tolerance_m2:
            return 0.0
        return value


def evaluate_condition(cond: Mapping[str, Any] | None, facts: Facts) -> bool:
    """Evaluate a condition (None is true).

    Kinds: ``{fact: NAME, <op>: NUMBER}`` with op in gt/ge/lt/le/eq/ne;
    ``{use: [..]}``; ``{flag: NAME}``; ``{all: [..]}``; ``{any: [..]}``;
    ``{not: cond}``.

    Examples
    --------
    >>> f = Facts({"layer.STBHHX.area_m2": 12.0}, {}, "工业", set(), {})
    >>> evaluate_condition({"all": [{"fact": "layer.STBHHX.area_m2", "gt": 0},
    ...                             {"use": ["城镇建设", "工业"]}]}, f)
    True
    >>> evaluate_condition({"fact": "layer.STBHHX.area_m2", "gt": 20}, f)
    False
    """
    if cond is None:
        return True
    if "fact" in cond:
        op = next(k for k in cond if k != "fact")
        return bool(_OPS[op](facts.number(str(cond["fact"]), for_condition=True), cond[op]))
    if "use" in cond:
        value = cond["use"]
        return facts.use in ([value] if isinstance(value, str) else value)
    if "flag" in cond:
        return cond["flag"] in facts.flags
    if "activity" in cond:
        value = cond["activity"]
        eco = ecology_rules()
        return any(eco.in_list(facts.activity, v) for v in ([value] if isinstance(value, str) else value))
    if "all" in cond:
        return all(evaluate_condition(c, facts) for c in cond["all"])
    if "any" in cond:
        return any(evaluate_condition(c, facts) for c in cond["any"])
    if "not" in cond:
        return not evaluate_condition(cond["not"], facts)
    raise ValueError(f"未知的条件：{cond!r}")  # pragma: no cover - validated on load


def render_reason(template: str, facts: Facts) -> str:
    """Fill a reason template: ``{name}`` or ``{name:spec}`` with a fact.

    Examples
    --------
    >>> f = Facts({"site.area_m2": 25000.0}, {"use": "工业"}, "工业", set(), {})
    >>> render_reason("{use}用地 {site.area_ha:.2f} 公顷", f)
    '工业用地 2.50 公顷'
    """

    def sub(m: re.Match[str]) -> str:
        name, spec = m.group(1).strip(), m.group(2)
        if name in facts.texts:
            return facts.texts[name]
        if name == "use":
            return facts.use
        if name == "activity":
            return facts.activity or "未申报"
        if any(p.fullmatch(name) for p in _TEXT_FACTS[2:4]):
            return "无"
        value = facts.number(name)
        if spec:
            return format(value, spec)
        return f"{value:g}" if math.isfinite(value) else str(value)

    return _PLACEHOLDER.sub(sub, template)


@dataclass
class RuleResult:
    """Verdict of one rule.

    Attributes
    ----------
    id, title, basis : str
        From the rule.
    verdict : str
        符合 / 需论证 / 不符合.
    reason : str
        The filled reason.
    advice : str
        What the applicant must do for this verdict (the rule's ``advice``; "" if none).
    source : str
        Where the legal basis was checked (the rule's ``source``).
    """

    id: str
    title: str
    basis: str
    verdict: str
    reason: str
    advice: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, str]:
        """JSON-ready dict; ``rule`` is the title."""
        return {"id": self.id, "rule": self.title, "verdict": self.verdict,
                "reason": self.reason, "basis": self.basis, "advice": self.advice}


def apply_rule(rule: Rule, facts: Facts) -> RuleResult:
    """Evaluate one rule against the facts (with the advice and source of its verdict)."""
    result = _apply_rule(rule, facts)
    if not result.advice:
        result.advice = rule.advice.get(result.verdict, "")
    result.source = rule.source
    return result


def _apply_rule(rule: Rule, facts: Facts) -> RuleResult:
    if rule.uses is not None and facts.use not in rule.uses:
        return RuleResult(rule.id, rule.title, rule.basis, "符合",
                          f"拟用途为{facts.use}，本条仅适用于{'、'.join(rule.uses)}，不适用。")
    missing = sorted(rule.layers() & set(facts.missing_layers))
    if missing:
        titles = "、".join(facts.missing_layers[d] for d in missing)
        return RuleResult(rule.id, rule.title, rule.basis, rule.missing_layer_verdict,
                          f"{titles}未入库，无法判定本条，须人工核查。",
                          advice=f"{titles}未入库，审查人员须核实拟用地是否涉及，必要时补充相关材料。")
    for outcome in rule.outcomes:
        if evaluate_condition(outcome.when, facts):
            return RuleResult(rule.id, rule.title, rule.basis, outcome.verdict,
                              render_reason(outcome.reason, facts))
    raise AssertionError("the last outcome has no condition")  # pragma: no cover


def apply_rules(ruleset: RuleSet, facts: Facts) -> list[RuleResult]:
    """Evaluate every rule, in file order."""
    return [apply_rule(rule, facts) for rule in ruleset.rules]


def worst(verdicts: list[str]) -> str:
    """The overall verdict: 不符合 if any, else 需论证 if any, else 符合."""
    rank = {v: i for i, v in enumerate(VERDICTS)}
    return max(verdicts, key=lambda v: rank[v], default="符合")
