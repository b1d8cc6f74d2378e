"""The field app's data file ``field_tasks.yaml``: evidence rules and task kinds, validated on load."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from onemap.domain import sources

FILE_NAME = "field_tasks.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvidenceRules(_Strict):
    """Thresholds of the evidence rules (defaults as in the shipped file)."""

    max_distance_m: float = Field(100.0, gt=0)
    max_accuracy_m: float = Field(30.0, gt=0)
    clock_slack_minutes: float = Field(10.0, ge=0)
    utc_offset_hours: float = Field(8.0, ge=-12, le=14)


class Offline(_Strict):
    """What the phone downloads for working offline."""

    layers: tuple[str, ...] = ("DLTB",)
    min_zoom: int = Field(13, ge=0, le=22)
    max_zoom: int = Field(17, ge=0, le=22)
    margin_m: float = Field(300.0, ge=0)
    budget_mb: float = Field(50.0, gt=0)

    @model_validator(mode="after")
    def _zooms(self) -> Offline:
        if self.min_zoom > self.max_zoom:
            raise ValueError(f"min_zoom（{self.min_zoom}）大于 max_zoom（{self.max_zoom}）")
        return self


class FormField(_Strict):
    """One field of a task kind's form."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    title: str
    type: Literal["text", "choice", "number"]
    required: bool = False
    choices: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _choices(self) -> FormField:
        if self.type == "choice" and not self.choices:
            raise ValueError(f"选择项 {self.name} 须列出 choices")
        return self


class Period(_Strict):
    """Where a task's period starts and ends."""

    start: Literal["opened", "cycle", "none"] = "none"
    end: Literal["due", "none"] = "none"


class TaskKind(_Strict):
    """A kind of field task: where its tasks come from, the action it applies, its form."""

    title: str
    source: Literal["case", "register"]
    action: str
    register_name: str | None = Field(None, alias="register")
    due_within_days: int = Field(30, ge=0)
    period: Period = Period()
    min_photos: int = Field(1, ge=0)
    form: tuple[FormField, ...] = ()

    @model_validator(mode="after")
    def _register(self) -> TaskKind:
        if self.source == "register" and not self.register_name:
            raise ValueError("来源为台账（register）的任务须写明 register")
        return self


class FieldConfig(_Strict):
    """The whole file."""

    version: str = ""
    rules: EvidenceRules = EvidenceRules()
    offline: Offline = Offline()
    kinds: dict[str, TaskKind]
    path: str = ""
    sha256: str = ""

    def kind(self, name: str) -> TaskKind:
        """The task kind ``name`` (KeyError when unknown)."""
        return self.kinds[name]


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> FieldConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise sources.data_file_error(path, None, f"无法读取（{exc}）") from exc
    if not isinstance(data, dict):
        raise sources.data_file_error(path, None, "顶层应为键值表")
    try:
        return FieldConfig(**data, path=str(path), sha256=hashlib.sha256(raw).hexdigest())
    except ValidationError as exc:
        raise sources.data_file_error(path, None, sources.explain_validation(exc)) from exc


def load_config(path: str | Path | None = None) -> FieldConfig:
    """Load ``field_tasks.yaml`` (the shipped file, an ``ONEMAP_DOMAIN_DIR`` copy, or ``path``).

    Raises
    ------
    onemap.errors.DomainDataError
        The file is missing, unreadable or breaks the schema (the message names file and entry).
    """
    p = sources.resolve("field", FILE_NAME, path)
    return _load((str(p), p.stat().st_mtime_ns))
