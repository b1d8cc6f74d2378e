"""One error taxonomy for OneMap.

Every refusal a user can meet is a :class:`OneMapError` carrying a Chinese
message and the place it concerns (file, row, field) and the rule broken, so
the CLI and the API can show it the same way and machines can read it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Problem:
    """One problem found in input data.

    Parameters
    ----------
    rule : str
        Short rule id, e.g. ``"required_field"`` or ``"unknown_dlbm"``.
    message : str
        Chinese sentence for users.
    file : str, optional
        Source file name.
    row : str, optional
        Row identity, the BSM where the layer has one, else the row number.
    field : str, optional
        Field name concerned.
    """

    rule: str
    message: str
    file: str | None = None
    row: str | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as a plain dict."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"文件 {self.file}")
        if self.row is not None:
            where.append(f"行 {self.row}")
        if self.field:
            where.append(f"字段 {self.field}")
        prefix = "，".join(where)
        return f"[{self.rule}] {prefix + '：' if prefix else ''}{self.message}"


class OneMapError(Exception):
    """Base class of every error OneMap reports to users.

    Parameters
    ----------
    message : str
        Chinese summary.
    problems : list of Problem, optional
        Detailed problems, each naming file/row/field and rule.
    exit_code : int
        Process exit code the CLI uses.
    """

    exit_code = 1

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems or [])

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready description of the error."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "problems": [p.to_dict() for p in self.problems],
        }

    def __str__(self) -> str:
        lines = [self.message]
        shown = self.problems[:50]
        lines += [f"  - {p}" for p in shown]
        if len(self.problems) > len(shown):
            lines.append(f"  … 另有 {len(self.problems) - len(shown)} 条问题")
        return "\n".join(lines)


class InputError(OneMapError):
    """Input data that cannot be accepted (schema, codes, geometry, CRS)."""

    exit_code = 2


class ReadError(InputError):
    """A file that cannot be read at all (missing, truncated, unknown format)."""

    exit_code = 3


class WorkspaceError(OneMapError):
    """A workspace that does not exist, or a dataset/version not in it."""

    exit_code = 4


class DomainDataError(OneMapError):
    """A domain table (YAML/CSV shipped with OneMap or edited by the bureau) is invalid."""

    exit_code = 5


@dataclass
class Report:
    """Non-fatal findings of an operation (repairs made, area differences).

    Attributes
    ----------
    items : list of Problem
        Findings, each with a rule id.
    """

    items: list[Problem] = field(default_factory=list)

    def add(self, rule: str, message: str, **where: Any) -> None:
        """Append one finding."""
        self.items.append(Problem(rule=rule, message=message, **where))

    def by_rule(self, rule: str) -> list[Problem]:
        """Return findings of one rule."""
        return [p for p in self.items if p.rule == rule]
