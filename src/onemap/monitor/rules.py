"""Judging rules as data: a small condition language evaluated over a facts table.

A rule set (``judging_rules.yaml``) is an ordered list of rules; the first
rule whose ``when`` holds for a patch gives its verdict. Conditions::

    fact: value                      equality
    fact: {gte|gt|lte|lt|eq|ne: v}   comparison
    fact: {in: [..]} | {not_in: [..]}
    all: [..] | any: [..] | not: {..}
    several keys in one mapping      all must hold
    "$name"                          a value from ``settings``

Conditions compile to NumPy boolean masks over a :class:`pandas.DataFrame`
of facts (one row per patch), so judging thousands of patches is instant.
Unknown facts, operators or settings are refused when the file is loaded,
naming the rule.
"""

from __future__ import annotations

import operator
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onemap.monitor import _data

#: Verdicts a rule may give.
VERDICTS = ("合法", "疑似违法", "其他")

Mask = Callable[[pd.DataFrame], np.ndarray]

_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt,
    "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
}


class RuleSpec(BaseModel):
    """One rule as written in the YAML file."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    name: str
    verdict: Literal["合法", "疑似违法", "其他"]
    priority: int | None = None
    when: dict[str, Any] = Field(default_factory=dict)
    reason: str
    suspect_area: str = "all"


@dataclass
class Rule:
    """A compiled rule."""

    id: str
    name: str
    verdict: str
    priority: int | None
    reason: str
    suspect_area: str
    when: dict[str, Any]
    mask: Mask
    facts: frozenset[str]


@dataclass
class RuleSet:
    """An ordered, compiled rule set.

    Attributes
    ----------
    rules : list of Rule
        In order; the last one matches everything.
    settings : dict
        Named values the conditions refer to with ``$name``.
    version, sha256, path : str
        Declared version, hash and location of the file (recorded with every
        judging so a verdict can be reproduced).
    """

    rules: list[Rule]
    settings: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    sha256: str = ""
    path: str = ""

    def evaluate(self, facts: pd.DataFrame) -> np.ndarray:
        """Index (into :attr:`rules`) of the first matching rule of every row."""
        n = len(facts)
        chosen = np.full(n, -1, dtype=np.intp)
        for i, rule in enumerate(self.rules):
            free = chosen < 0
            if not free.any():
                break
            hit = np.asarray(rule.mask(facts), dtype=bool) & free
            chosen[hit] = i
        return chosen

    def by_id(self, rule_id: str) -> Rule:
        """Return a rule by id (KeyError if unknown)."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def _value(v: Any, settings: dict[str, Any], where: str) -> Any:
    if isinstance(v, str) and v.startswith("$"):
        name = v[1:]
        if name not in settings:
            raise ValueError(f"{where}：settings 中没有 {name}")
        return settings[name]
    return v


def _column(df: pd.DataFrame, fact: str) -> np.ndarray:
    return df[fact].to_numpy()


def compile_condition(spec: Any, settings: dict[str, Any], facts: Iterable[str] | None,
                      where: str = "when") -> tuple[Mask, set[str]]:
    """Compile one condition mapping to a mask function; also return the facts it reads.

    Raises
    ------
    ValueError
        Unknown fact, operator or setting (message names the place).
    """
    known = set(facts) if facts is not None else None
    used: set[str] = set()

    def comp(node: Any, path: str) -> Mask:
        if node is None or node == {}:
            return lambda df: np.ones(len(df), dtype=bool)
        if not isinstance(node, dict):
            raise ValueError(f"{path}：条件应为键值表")
        parts: list[Mask] = []
        for key, val in node.items():
            here = f"{path}.{key}"
            if key in ("all", "any"):
                if not isinstance(val, list) or not val:
                    raise ValueError(f"{here}：应为非空列表")
                subs = [comp(v, f"{here}[{i}]") for i, v in enumerate(val)]
                parts.append(_combine(subs, key == "all"))
            elif key == "not":
                sub = comp(val, here)
                parts.append(lambda df, s=sub: ~s(df))
            else:
                if known is not None and key not in known:
                    raise ValueError(f"{here}：不认识的事实 {key}")
                used.add(key)
                parts.append(_test(key, val, settings, here))
        return _combine(parts, True)

    return comp(spec, where), used


def _combine(parts: list[Mask], all_: bool) -> Mask:
    if len(parts) == 1:
        return parts[0]

    def run(df: pd.DataFrame) -> np.ndarray:
        acc = parts[0](df)
        for p in parts[1:]:
            acc = (acc & p(df)) if all_ else (acc | p(df))
        return acc

    return run


def _test(fact: str, val: Any, settings: dict[str, Any], where: str) -> Mask:
    if isinstance(val, dict):
        tests: list[Mask] = []
        for op, arg in val.items():
            if op in _CMP:
                x = _value(arg, settings, where)
                fn = _CMP[op]
                tests.append(lambda df, fn=fn, x=x: np.asarray(fn(_column(df, fact), x),
                                                                dtype=bool))
            elif op in ("in", "not_in"):
                if not isinstance(arg, list):
                    raise ValueError(f"{where}.{op}：应为列表")
                values = [_value(a, settings, where) for a in arg]
                neg = op == "not_in"
                tests.append(lambda df, v=values, neg=neg:
                             np.isin(_column(df, fact), v) ^ neg)
            else:
                raise ValueError(f"{where}：不认识的比较 {op}（可用 {', '.join(_CMP)}, in, not_in）")
        return _combine(tests, True)
    x = _value(val, settings, where)
    return lambda df: np.asarray(_column(df, fact) == x, dtype=bool)


def load_rules(path: str | Path | None = None, *, facts: Iterable[str] | None = None) -> RuleSet:
    """Load and compile a rule set.

    Parameters
    ----------
    path : str or Path, optional
        Rule file; default the shipped ``judging_rules.yaml`` (or the copy in
        ``ONEMAP_DOMAIN_DIR``).
    facts : iterable of str, optional
        Fact names the rules may use; unknown names are refused. The judge
        passes the facts it computes for the configured approval layers.

    Returns
    -------
    RuleSet

    Raises
    ------
    onemap.errors.DomainDataError
        The file is malformed, a rule is invalid, ids repeat, a reason names
        an unknown fact, or the last rule does not match everything.
    """
    p = _data.resolve("judging_rules.yaml", path)
    return _load_rules((str(p), p.stat().st_mtime_ns),
                       None if facts is None else frozenset(facts))


@lru_cache(maxsize=16)
def _load_rules(key: tuple[str, int], facts: frozenset[str] | None) -> RuleSet:
    p = Path(key[0])
    data, sha = _data.read_yaml(p)
    settings = dict(data.get("settings") or {})
    raw = data.get("rules")
    if not isinstance(raw, list) or not raw:
        raise _data.fail(p, None, "rules 应为非空列表")
    known = set(facts) if facts is not None else None
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        entry = f"第 {i + 1} 条规则"
        try:
            spec = RuleSpec.model_validate(item)
        except ValidationError as exc:
            raise _data.fail(p, entry, _data.explain(exc)) from exc
        entry = f"规则 {spec.id}"
        if spec.id in seen:
            raise _data.fail(p, entry, "规则编号重复")
        seen.add(spec.id)
        try:
            mask, used = compile_condition(spec.when, settings, known)
        except ValueError as exc:
            raise _data.fail(p, entry, str(exc)) from exc
        names = {f[1].split(".")[0].split("[")[0].split(":")[0]
                 for f in string.Formatter().parse(spec.reason) if f[1]}
        if known is not None and names - known:
            raise _data.fail(p, entry, f"理由中不认识的事实 {', '.join(sorted(names - known))}")
        sa = spec.suspect_area
        if not (sa in ("all", "none") or sa.startswith("outside:")):
            raise _data.fail(p, entry, "suspect_area 应为 all、none 或 outside:<图层或分组>")
        if sa.startswith("outside:") and known is not None and \
                f"outside_{sa.split(':', 1)[1]}_m2" not in known:
            raise _data.fail(p, entry, f"suspect_area 引用了未配置的审批图层或分组 {sa}")
        rules.append(Rule(spec.id, spec.name, spec.verdict, spec.priority, spec.reason, sa,
                          spec.when, mask, frozenset(used)))
    if rules[-1].when:
        raise _data.fail(p, f"规则 {rules[-1].id}", "最后一条规则须匹配全部图斑（when: {}）")
    return RuleSet(rules=rules, settings=settings, version=str(data.get("version", "")),
                   sha256=sha, path=str(p))


def format_reason(template: str, facts: dict[str, Any]) -> str:
    """Fill a reason template; a value that cannot be formatted is shown as is."""
    try:
        return template.format_map(facts)
    except (KeyError, ValueError, TypeError, IndexError):
        return template
