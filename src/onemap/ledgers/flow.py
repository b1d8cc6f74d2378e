"""A record lifecycle as data: states, moves, who may make them, deadlines.

One model serves every register of the ledgers and the enforcement cases
(:mod:`onemap.monitor.cases` reads ``case_flow.yaml`` through it). A flow file
(or the ``flow`` mapping of a register file) lists:

- ``states``: title, ``deadline_days`` (due date set on entering the state),
  ``warn_days`` (a warning that many days before the due date), ``final``;
- ``actions``: title, ``from`` (states it may start in), ``to``, ``required``
  fields, ``choices`` (allowed values), ``roles`` (who may act; empty = any
  role), ``guards`` (per from-state: field → allowed values of the record),
  ``deadline_field`` (a field that overrides the default due date), ``sets``,
  ``min_photos`` (used by cases);
- ``initial``: the state of a new record.

Everything here is pure: no database, no files except :func:`parse_flow`'s
error messages naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onemap.domain import sources
from onemap.errors import InputError, Problem


class TransitionError(InputError):
    """A move that the record's state, its values or the actor's role does not allow."""

    exit_code = 6


class StateSpec(BaseModel):
    """A state of a flow."""

    model_config = ConfigDict(extra="forbid")
    title: str
    deadline_days: int | None = None
    warn_days: int | None = None
    final: bool = False


class ActionSpec(BaseModel):
    """An action (transition) of a flow."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    title: str
    from_: list[str] = Field(alias="from")
    to: str
    required: list[str] = Field(default_factory=list)
    choices: dict[str, list[str]] = Field(default_factory=dict)
    roles: list[str] = Field(default_factory=list)
    min_photos: int = 0
    guards: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    deadline_field: str | None = None
    sets: list[str] = Field(default_factory=list)


@dataclass
class Flow:
    """A lifecycle: states, actions, deadlines."""

    initial: str
    states: dict[str, StateSpec]
    actions: dict[str, ActionSpec]
    version: str = ""
    sha256: str = ""

    def allowed(self, state: str) -> list[str]:
        """Actions that may start from ``state``."""
        return [a for a, spec in self.actions.items() if state in spec.from_]

    def state_title(self, state: str | None) -> str:
        """Chinese title of a state."""
        return self.states[state].title if state in self.states else str(state)

    def state_key(self, text: str) -> str | None:
        """The state named by its key or its Chinese title, or None."""
        text = str(text).strip()
        if text in self.states:
            return text
        return next((k for k, s in self.states.items() if s.title == text), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (for the CLI help and the web client)."""
        return {
            "version": self.version,
            "initial": self.initial,
            "states": {k: v.model_dump() for k, v in self.states.items()},
            "actions": {k: v.model_dump(by_alias=True) for k, v in self.actions.items()},
        }


#: The error for one bad entry of a flow or register file (the shared data-file error).
flow_error = sources.data_file_error
_explain = sources.explain_validation


def parse_flow(data: dict[str, Any], path: Path, sha256: str = "", prefix: str = "") -> Flow:
    """Build and check a flow from its mapping.

    Parameters
    ----------
    data : dict
        The mapping with ``initial``, ``states``, ``actions`` (and ``version``).
    path : Path
        The file it came from (for messages).
    sha256 : str, optional
        Hash of the file bytes, kept on the flow.
    prefix : str, optional
        Location of the mapping inside the file (``"flow."``), for messages.

    Raises
    ------
    onemap.errors.DomainDataError
        Unknown keys, undefined states, a non-final state without any action.
    """
    states, actions = {}, {}
    for name, spec in (data.get("states") or {}).items():
        try:
            states[name] = StateSpec.model_validate(spec)
        except ValidationError as exc:
            raise flow_error(path, f"{prefix}states.{name}", _explain(exc)) from exc
    for name, spec in (data.get("actions") or {}).items():
        try:
            act = ActionSpec.model_validate(spec)
        except ValidationError as exc:
            raise flow_error(path, f"{prefix}actions.{name}", _explain(exc)) from exc
        bad = [s for s in [*act.from_, act.to, *act.guards] if s not in states]
        if bad:
            raise flow_error(path, f"{prefix}actions.{name}", f"引用了未定义的状态 {', '.join(bad)}")
        actions[name] = act
    initial = str(data.get("initial", ""))
    if initial not in states:
        raise flow_error(path, f"{prefix}initial", f"初始状态 {initial!r} 未定义")
    for name, st in states.items():
        if not st.final and not any(name in a.from_ for a in actions.values()):
            raise flow_error(path, f"{prefix}states.{name}", "非终态却没有任何可执行的操作")
    return Flow(initial, states, actions, str(data.get("version", "")), sha256)


def check_move(flow: Flow, label: str, state: str, values: dict[str, Any], action: str,
               role: str | None) -> ActionSpec:
    """Check that ``action`` may be made on a record (pure).

    Parameters
    ----------
    flow : Flow
        The register's lifecycle.
    label : str
        How the record is named in messages (``补充耕地项目 BC-001``).
    state : str
        The record's state.
    values : dict
        The record's values (guards read them).
    action : str
        The action asked for.
    role : str or None
        The actor's role; None skips the role check (a trusted local operator).

    Returns
    -------
    ActionSpec

    Raises
    ------
    TransitionError
        Unknown action, wrong state, a guard not met or a role not allowed.
    """
    if action not in flow.actions:
        names = "、".join(f"{k}（{a.title}）" for k, a in flow.actions.items())
        raise TransitionError(f"不认识的操作 {action}（可用：{names}）",
                              [Problem("unknown_action", action, row=label)])
    spec = flow.actions[action]
    allowed = "、".join(flow.actions[a].title for a in flow.allowed(state)) or "无（已办结）"
    if state not in spec.from_:
        need = "、".join(flow.state_title(s) for s in spec.from_)
        raise TransitionError(
            f"{label} 当前状态为「{flow.state_title(state)}」，不能执行「{spec.title}」"
            f"（「{spec.title}」只能在「{need}」状态下执行）。当前可执行：{allowed}",
            [Problem("forbidden_transition", f"{state} → {action}", row=label)])
    if role is not None and spec.roles and role not in spec.roles:
        raise TransitionError(
            f"角色 {role} 不能对 {label} 执行「{spec.title}」（允许的角色：{'、'.join(spec.roles)}）",
            [Problem("role_not_allowed", role, row=label)])
    for fld, ok_values in spec.guards.get(state, {}).items():
        have = values.get(fld)
        if str(have) not in ok_values:
            raise TransitionError(
                f"{label} 的 {fld} 为「{have}」，不能执行「{spec.title}」（要求：{'、'.join(ok_values)}）",
                [Problem("guard", f"{fld}={have}", row=label, field=fld)])
    return spec


def missing_fields(spec: ActionSpec, fields: dict[str, Any]) -> list[Problem]:
    """Required fields of an action that are absent, and values outside its choices."""
    problems = [Problem("required_field", f"「{spec.title}」须填写 {name}", field=name)
                for name in spec.required if fields.get(name) in (None, "", [], ())]
    for name, allowed in spec.choices.items():
        if name in fields and str(fields[name]) not in allowed:
            problems.append(Problem("bad_choice", f"{name} 的取值 {fields[name]} 不在允许范围"
                                    f"（{'、'.join(allowed)}）", field=name))
    return problems


def due_at(flow: Flow, spec: ActionSpec | None, state: str, when: datetime,
           fields: dict[str, Any] | None = None) -> str | None:
    """The due date (ISO) a record gets on entering ``state`` at ``when``."""
    target = flow.states[state]
    fields = fields or {}
    if target.final:
        return None
    if spec is not None and spec.deadline_field and fields.get(spec.deadline_field):
        return f"{fields[spec.deadline_field]}T23:59:59+00:00"
    if target.deadline_days:
        return (when + timedelta(days=target.deadline_days)).isoformat()
    return None


def deadline_status(flow: Flow, state: str, due: datetime | None, now: datetime) -> dict[str, Any]:
    """Deadline status of a record: 正常, 即将到期 (within ``warn_days``), 已逾期, or 无期限."""
    spec = flow.states.get(state)
    if due is None or spec is None or spec.final:
        return {"deadline": "无期限", "overdue": False, "overdue_days": 0, "days_left": None}
    left = (due - now).total_seconds() / 86400
    if left < 0:
        return {"deadline": "已逾期", "overdue": True, "overdue_days": int(-left),
                "days_left": 0}
    warn = spec.warn_days or 0
    return {"deadline": "即将到期" if left <= warn else "正常", "overdue": False,
            "overdue_days": 0, "days_left": int(left)}
