"""The public-services policy (``public.yaml``).

Public layers, report, comment and abuse limits, the 执法公示 redaction rules. Loaded and
checked with pydantic; a bad entry is a data-file error naming the file and the entry.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from onemap.monitor import _data


class PublicLayer(BaseModel):
    """A layer a bureau may publish and the only fields that leave with it."""

    model_config = ConfigDict(extra="forbid")
    title: str
    fields: list[str] = Field(default_factory=list)


class ReportRules(BaseModel):
    """群众举报: merging, status shown to the reporter, input limits."""

    model_config = ConfigDict(extra="forbid")
    merge_distance_m: float = Field(gt=0)
    merge_period_days: int = Field(gt=0)
    status: dict[str, str]
    rejected_status: str
    description_chars: int = Field(gt=0)
    contact_chars: int = Field(gt=0)
    photos_max: int = Field(ge=0)
    photo_bytes: int = Field(gt=0)
    case_prefix: str


class CommentRules(BaseModel):
    """意见征询: input limits."""

    model_config = ConfigDict(extra="forbid")
    text_chars: int = Field(gt=0)
    contact_chars: int = Field(gt=0)


class RateRules(BaseModel):
    """Abuse limits per client address and per device over sliding windows."""

    model_config = ConfigDict(extra="forbid")
    window_seconds: int = Field(gt=0)
    writes_per_address: int = Field(gt=0)
    writes_per_device: int = Field(gt=0)
    read_window_seconds: int = Field(gt=0)
    reads_per_address: int = Field(gt=0)


class RedactRule(BaseModel):
    """A pattern of personal data and what replaces it."""

    model_config = ConfigDict(extra="forbid")
    name: str
    pattern: str
    replace: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        re.compile(v)
        return v


class EnforcementRules(BaseModel):
    """执法公示: the published decision fields and the redaction of personal data."""

    model_config = ConfigDict(extra="forbid")
    decision_action: str
    published_fields: list[str]
    redact: list[RedactRule]
    party_field: str
    party_mask: str
    organisation_suffixes: list[str]


class PublicPolicy(BaseModel):
    """The whole ``public.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str
    layers: dict[str, PublicLayer]
    reports: ReportRules
    comments: CommentRules
    rate: RateRules
    enforcement: EnforcementRules
    path: str = ""
    sha256: str = ""


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> PublicPolicy:
    path = Path(key[0])
    data, sha = _data.read_yaml(path)
    try:
        return PublicPolicy(**data, path=str(path), sha256=sha)
    except (ValidationError, TypeError) as exc:
        raise _data.fail(path, None, _data.explain(exc) if isinstance(exc, ValidationError)
                         else str(exc)) from exc


def public_policy(path: str | Path | None = None) -> PublicPolicy:
    """Load ``public.yaml`` (the shipped file, an override, or ``path``).

    Raises
    ------
    onemap.errors.DomainDataError
        The file is unreadable or an entry is invalid (named in the message).
    """
    p = _data.resolve("public.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))
