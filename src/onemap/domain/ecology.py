"""Ecological use control as data (``domain/data/ecology.yaml``).

The zones of a 自然保护地 (核心保护区, 一般控制区) and the rest of the 生态保护红线,
the human activities the bureau distinguishes, which of them are on the
核心保护区 list and on the 有限人为活动 正面清单, and the verdict of an activity
in a zone. The site check (declared activity) and the change judging (activity
read from the class a change patch ends in) apply the same table.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onemap.domain import _files

FILE = "ecology.yaml"

Verdict = Literal["符合", "需论证", "不符合"]

#: Names of the activity lists a rule may test (besides single activity names).
LIST_CORE = "核心保护区允许活动"
LIST_LIMITED = "有限人为活动"
LIST_ANY = "任何已申报活动"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Activity(_Strict):
    """One human activity."""

    name: str = Field(min_length=1)
    note: str = ""
    allowed_in_core: bool
    limited: bool
    dlbm: tuple[str, ...] = ()


class Zones(_Strict):
    """Names of the three zones."""

    core: str = "核心保护区"
    general: str = "一般控制区"
    redline: str = "生态保护红线"


class ZoneVerdicts(_Strict):
    """Verdict of a listed / unlisted activity."""

    listed: Verdict = "需论证"
    unlisted: Verdict = "不符合"


class EcologyRules(_Strict):
    """The whole ``ecology.yaml``."""

    version: str
    source: str = ""
    zones: Zones = Zones()
    verdicts: ZoneVerdicts = ZoneVerdicts()
    activities: tuple[Activity, ...] = Field(min_length=1)

    def names(self) -> list[str]:
        """Activity names, in file order."""
        return [a.name for a in self.activities]

    def activity(self, name: str) -> Activity | None:
        """The activity of that name (None if unknown)."""
        return next((a for a in self.activities if a.name == name), None)

    def lists(self) -> dict[str, list[str]]:
        """List name → activity names (核心保护区允许活动, 有限人为活动, 任何已申报活动)."""
        return {LIST_CORE: [a.name for a in self.activities if a.allowed_in_core],
                LIST_LIMITED: [a.name for a in self.activities if a.limited],
                LIST_ANY: self.names()}

    def in_list(self, activity: str | None, name: str) -> bool:
        """Whether ``activity`` is the activity ``name`` or on the list ``name``."""
        if not activity:
            return False
        return activity == name or activity in self.lists().get(name, [])

    def by_dlbm(self) -> dict[str, str]:
        """三调 class → the activity a change to it is read as."""
        return {code: a.name for a in self.activities for code in a.dlbm}

    def verdict(self, zone: str, activity: str | None) -> Verdict:
        """Verdict of ``activity`` (None: an activity on neither list) in ``zone``.

        Examples
        --------
        >>> rules = ecology_rules()
        >>> rules.verdict("核心保护区", "线性基础设施"), rules.verdict("一般控制区", "线性基础设施")
        ('不符合', '需论证')
        """
        act = self.activity(activity) if activity else None
        if zone == self.zones.core:
            ok = act is not None and act.allowed_in_core
        elif zone in (self.zones.general, self.zones.redline):
            ok = act is not None and act.limited
        else:
            return "符合"
        return self.verdicts.listed if ok else self.verdicts.unlisted


@lru_cache(maxsize=4)
def _load(key: _files.SourceKey) -> EcologyRules:
    path = _files.resolve(FILE)
    doc = _files.read_yaml(path)
    try:
        rules = EcologyRules.model_validate({**doc, "version": str(doc["version"])})
    except ValidationError as exc:
        raise _files.validation_failure(path, "", exc) from exc
    seen: set[str] = set()
    for a in rules.activities:
        if a.name in seen or a.name in rules.lists():
            raise _files.fail(path, a.name, "活动名称重复或与清单名称相同", field="name")
        seen.add(a.name)
    codes = [c for a in rules.activities for c in a.dlbm]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise _files.fail(path, "activities", f"地类 {'、'.join(dup)} 对应了多个活动", field="dlbm")
    return rules


def ecology_rules() -> EcologyRules:
    """The ecological use-control table in force (shipped or the bureau's override; cached by mtime).

    Raises
    ------
    onemap.errors.DomainDataError
        The file is malformed (the message names the entry).
    """
    return _load(_files.source_key(FILE))
