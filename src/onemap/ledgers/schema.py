"""A register's schema as data: fields, titles, types, code lists, synonyms, geometry, lifecycle.

Each register is one YAML file in ``ledgers/data/`` (or an override copy in
``ONEMAP_DOMAIN_DIR``) with ``name``, ``title``, ``key`` (the field that numbers a
record), ``county`` (the field holding the 县级行政区代码), ``geometry``
(``none``, ``optional`` or ``required``), ``state_headers`` (column titles an
import may carry the state in), ``fields``, ``computed`` (field → computation
that fills it on import, see :mod:`onemap.ledgers.computed`) and ``flow`` (see
:mod:`onemap.ledgers.flow`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from onemap.domain import sources
from onemap.errors import InputError, Problem
from onemap.ledgers.flow import Flow, flow_error, parse_flow

FieldType = Literal["text", "number", "int", "date", "code", "bool"]


class FieldSpec(BaseModel):
    """One field of a register."""

    model_config = ConfigDict(extra="forbid")
    name: str
    title: str
    type: FieldType = "text"
    required: bool = False
    codes: list[str] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)
    unit: str = ""
    min: float | None = 0
    max: float | None = None
    pattern: str | None = None
    default: Any = None
    decimals: int = 2

    @model_validator(mode="after")
    def _codes_for_code(self) -> FieldSpec:
        if self.type == "code" and not self.codes:
            raise ValueError(f"代码型字段 {self.name} 须列出 codes")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self


class _RegisterFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = ""
    name: str
    title: str
    key: str
    county: str
    geometry: Literal["none", "optional", "required"] = "none"
    state_headers: list[str] = Field(default_factory=list)
    fields: list[FieldSpec]
    computed: dict[str, str] = Field(default_factory=dict)
    flow: dict[str, Any]


@dataclass
class Register:
    """A register: its schema and its lifecycle."""

    name: str
    title: str
    key: str
    county: str
    geometry: str
    fields: list[FieldSpec]
    flow: Flow
    state_headers: list[str] = field(default_factory=list)
    version: str = ""
    sha256: str = ""
    path: str = ""
    computed: dict[str, str] = field(default_factory=dict)

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``."""
        return next(f for f in self.fields if f.name == name)

    def headers(self) -> dict[str, str]:
        """Every accepted column header (name, title, synonym; case-folded) → field name."""
        out: dict[str, str] = {}
        for f in self.fields:
            for text in (f.name, f.title, *f.synonyms):
                out[_fold(text)] = f.name
        for text in self.state_headers:
            out[_fold(text)] = STATE_COLUMN
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"name": self.name, "title": self.title, "key": self.key, "county": self.county,
                "geometry": self.geometry, "version": self.version, "sha256": self.sha256,
                "computed": dict(self.computed),
                "fields": [f.model_dump() for f in self.fields], "flow": self.flow.to_dict()}


#: The pseudo field an import's state column maps to.
STATE_COLUMN = "__state__"


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", str(text)).casefold()


@lru_cache(maxsize=16)
def _load(key: tuple[str, int]) -> Register:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    if not isinstance(data, dict):
        raise flow_error(path, None, "顶层应为键值表")
    try:
        spec = _RegisterFile.model_validate(data)
    except ValidationError as exc:
        detail = "；".join(f"{'.'.join(str(x) for x in e['loc'])}：{e['msg']}" for e in exc.errors())
        raise flow_error(path, None, detail) from exc
    names = [f.name for f in spec.fields]
    if len(set(names)) != len(names):
        raise flow_error(path, "fields", "字段名重复")
    for role in ("key", "county"):
        if getattr(spec, role) not in names:
            raise flow_error(path, role, f"{getattr(spec, role)} 不是本台账的字段")
    for name in spec.computed:
        if name not in names:
            raise flow_error(path, f"computed.{name}", f"{name} 不是本台账的字段")
    flow = parse_flow(spec.flow, path, prefix="flow.")
    reg = Register(spec.name, spec.title, spec.key, spec.county, spec.geometry, spec.fields, flow,
                   spec.state_headers, spec.version, hashlib.sha256(raw).hexdigest(), str(path),
                   dict(spec.computed))
    seen: dict[str, str] = {}
    for f in reg.fields:
        for text in (f.name, f.title, *f.synonyms):
            other = seen.setdefault(_fold(text), f.name)
            if other != f.name:
                raise flow_error(path, f"fields.{f.name}", f"列名「{text}」同时指向 {other} 和 {f.name}")
    return reg


def register_names() -> list[str]:
    """Names of the registers shipped or added in the override folder, sorted.

    Each YAML file is parsed once per modification time (listing the registers
    is on every request of the register API).
    """
    dirs = [sources.SHIPPED_DIRS["ledgers"]]
    over = sources.override_dir()
    if over is not None:
        dirs.append(over)
    names = set()
    for d in dirs:
        for p in d.glob("*.yaml"):
            try:
                stamp = p.stat().st_mtime_ns
            except OSError:
                continue
            if _is_register_file(str(p), stamp):
                names.add(p.stem)
    return sorted(names)


@lru_cache(maxsize=256)
def _is_register_file(path: str, stamp: int) -> bool:
    """Whether a YAML file (at one modification time) describes a register (``fields`` and ``flow``)."""
    try:
        head = yaml.safe_load(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(head, dict) and "fields" in head and "flow" in head


def load_register(name: str, path: str | Path | None = None) -> Register:
    """Load a register by its name (``BCGDXM``) or Chinese title (``补充耕地项目``).

    Raises
    ------
    onemap.errors.InputError
        No such register (the message lists the known ones).
    onemap.errors.DomainDataError
        The register file is invalid.
    """
    if path is None:
        known = register_names()
        if name not in known:
            titles = {load_register(n).title: n for n in known}
            if name not in titles:
                listing = "、".join(f"{n}（{load_register(n).title}）" for n in known)
                raise InputError(f"没有台账 {name}（可用：{listing}）",
                                 [Problem("unknown_register", name)])
            name = titles[name]
    p = sources.resolve("ledgers", f"{name}.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))
