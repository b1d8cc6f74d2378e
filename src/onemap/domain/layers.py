"""Layer schemas, code lists and QC rules, read from YAML and validated.

Files: ``layers.yaml`` (attribute schema of each layer), ``codelists.yaml``
(small code tables) and ``qc_rules.yaml`` (attribute QC rules as data, run by
:mod:`onemap.domain.validate`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from onemap.domain import _files
from onemap.domain._files import SourceKey
from onemap.domain.landclass import land_classes
from onemap.errors import InputError, Problem

LAYERS_FILE = "layers.yaml"
CODELISTS_FILE = "codelists.yaml"
RULES_FILE = "qc_rules.yaml"

#: The code list backed by the land-class table rather than ``codelists.yaml``.
DLBM_CODELIST = "dlbm"

_NAME = r"^[A-Z][A-Z0-9_]*$"


class UnknownNameError(InputError, KeyError):
    """A layer or code-list name that the domain tables do not define."""

    def __str__(self) -> str:
        return InputError.__str__(self)


# --------------------------------------------------------------------------- schemas


class FieldSpec(BaseModel):
    """One attribute field of a layer.

    Attributes
    ----------
    name : str
        Upper-case field name, e.g. ``"DLBM"``.
    title : str
        Chinese name.
    type : {"str", "int", "float", "date"}
        Value type.
    length : int or None
        Max characters (str) or total digits (numbers).
    decimals : int or None
        Digits after the point (float).
    required : bool
        Whether the value is required at ingest.
    codelist : str or None
        Name of the code list the value must come from (``dlbm`` or a table of
        ``codelists.yaml``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    title: str = Field(min_length=1)
    type: Literal["str", "int", "float", "date"]
    length: int | None = Field(default=None, gt=0)
    decimals: int | None = Field(default=None, ge=0)
    required: bool = False
    codelist: str | None = None
    note: str | None = None


class LayerSchema(BaseModel):
    """The attribute schema of one layer.

    Attributes
    ----------
    name : str
        Layer name, e.g. ``"DLTB"``.
    title : str
        Chinese title.
    geometry : str
        Geometry type (``Polygon`` for every layer shipped; multi-parts accepted).
    ysdm : str or None
        要素代码 where known.
    ysdm_confirmed : bool
        Whether ``ysdm`` is backed by a named source (``ysdm_source``); an
        unconfirmed code is a placeholder to check against the database standard.
    ysdm_source : str or None
        Where the code comes from, or why it stays unconfirmed.
    area_fields : list of str
        Fields that may hold the unit's official area, in order of preference
        (e.g. XZQ: DCMJ 调查面积 of a 三调 delivery, else KZMJ 控制面积 of older ones);
        see :meth:`area_field`.
    id_field : str
        Identity field (``BSM``).
    unit_field : str or None
        Field holding the administrative/ownership unit code.
    fields : list of FieldSpec
        Fields in schema order.
    note : str or None
        Remarks on choices made where the standard is silent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    title: str = Field(min_length=1)
    geometry: Literal["Point", "LineString", "Polygon"]
    ysdm: StrictStr | None = None
    ysdm_confirmed: bool = False
    ysdm_source: str | None = None
    area_fields: list[str] = Field(default_factory=list)
    id_field: str
    unit_field: str | None = None
    note: str | None = None
    fields: list[FieldSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> LayerSchema:
        names = [f.name for f in self.fields]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"字段重复：{', '.join(dup)}")
        if self.id_field not in names:
            raise ValueError(f"id_field {self.id_field} 不在字段列表中")
        if self.unit_field is not None and self.unit_field not in names:
            raise ValueError(f"unit_field {self.unit_field} 不在字段列表中")
        for f in self.area_fields:
            if f not in names:
                raise ValueError(f"area_fields 中的 {f} 不在字段列表中")
        if self.ysdm is not None and not self.ysdm_source:
            raise ValueError("填写了 ysdm 的图层须在 ysdm_source 中注明来源或“未确认”")
        if self.ysdm_confirmed and self.ysdm is None:
            raise ValueError("ysdm_confirmed 为 true 时须填写 ysdm")
        return self

    def area_field(self, columns: Iterable[str]) -> str | None:
        """Return the first of :attr:`area_fields` present among ``columns``.

        Parameters
        ----------
        columns : iterable of str
            Column names of a layer as delivered (upper case).

        Returns
        -------
        str or None
            E.g. ``"DCMJ"`` for a 三调 XZQ, ``"KZMJ"`` for an older one, ``"JBNTMJ"``
            for a YJJBNTTB that writes it so; None when the layer carries none of them.
        """
        present = set(columns)
        return next((f for f in self.area_fields if f in present), None)

    @property
    def field_names(self) -> list[str]:
        """List of str: field names in schema order."""
        return [f.name for f in self.fields]

    @property
    def required_fields(self) -> list[str]:
        """List of str: names of the fields required at ingest."""
        return [f.name for f in self.fields if f.required]

    def field(self, name: str) -> FieldSpec:
        """Return the spec of one field.

        Parameters
        ----------
        name : str
            Field name (upper case).

        Returns
        -------
        FieldSpec
            The field.

        Raises
        ------
        KeyError
            If the layer has no such field.
        """
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"图层 {self.name} 没有字段 {name}")

    def has_field(self, name: str) -> bool:
        """Return whether the layer defines the field."""
        return any(f.name == name for f in self.fields)


class _LayersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    source: str | None = None
    note: str | None = None
    layers: list[dict[str, Any]] = Field(min_length=1)


class Codelist(BaseModel):
    """One code table of ``codelists.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1)
    note: str | None = None
    codes: dict[StrictStr, StrictStr] = Field(min_length=1)


class _CodelistsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    source: str | None = None
    note: str | None = None
    codelists: dict[str, dict[str, Any]] = Field(min_length=1)


# --------------------------------------------------------------------------- rules

ConditionOp = Literal[
    "in",
    "not_in",
    "in_set",
    "not_in_set",
    "eq",
    "gt",
    "gte",
    "lt",
    "lte",
    "present",
    "absent",
    "matches",
]


class Condition(BaseModel):
    """A row condition ``{field, op, value}`` used by ``when`` and ``unless``.

    Attributes
    ----------
    field : str
        Field tested.
    op : str
        ``in``/``not_in`` (list), ``in_set``/``not_in_set`` (land-class set name),
        ``eq``, ``gt``, ``gte``, ``lt``, ``lte`` (number or text for ``eq``),
        ``present``, ``absent``, ``matches`` (regular expression, full match).
    value : object
        Operand, by op.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str = Field(pattern=_NAME)
    op: ConditionOp
    value: Any = None

    @model_validator(mode="after")
    def _check(self) -> Condition:
        op, v = self.op, self.value
        if op in ("in", "not_in"):
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ValueError(f"条件 {op} 的 value 应为文本列表")
        elif op in ("in_set", "not_in_set"):
            if not isinstance(v, str):
                raise ValueError(f"条件 {op} 的 value 应为地类集合名称")
        elif op in ("gt", "gte", "lt", "lte"):
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"条件 {op} 的 value 应为数值")
        elif op == "eq":
            if not isinstance(v, str | int | float) or isinstance(v, bool):
                raise ValueError("条件 eq 的 value 应为文本或数值")
        elif op == "matches":
            _compile(v)
        elif v is not None:
            raise ValueError(f"条件 {op} 不需要 value")
        return self


def _compile(regex: object) -> re.Pattern[str]:
    if not isinstance(regex, str) or not regex:
        raise ValueError("正则表达式应为非空文本")
    try:
        return re.compile(regex)
    except re.error as exc:
        raise ValueError(f"正则表达式无效：{exc}") from exc


class RequiredParams(BaseModel):
    """Params of ``required``: ``fields`` (list, or ``$required``)."""

    model_config = ConfigDict(extra="forbid")
    fields: list[str] | Literal["$required"]


class RequiredIfParams(BaseModel):
    """Params of ``required_if``: ``fields``; the condition is the rule's ``when``."""

    model_config = ConfigDict(extra="forbid")
    fields: list[str] = Field(min_length=1)


class InCodelistParams(BaseModel):
    """Params of ``in_codelist``: ``fields``, ``codelist`` or ``values``, ``exclude``.

    ``values: $ysdm`` means the layer's own 要素代码 (``ysdm`` of its schema); the
    rule then only applies to layers whose code is confirmed (``ysdm_confirmed``).
    """

    model_config = ConfigDict(extra="forbid")
    fields: list[str] | Literal["$codelist"]
    codelist: str | None = None
    values: list[StrictStr] | Literal["$ysdm"] | None = None
    exclude: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> InCodelistParams:
        if self.codelist is not None and self.values is not None:
            raise ValueError("codelist 与 values 只能填一个")
        if self.fields != "$codelist" and self.codelist is None and self.values is None:
            raise ValueError("列出字段时须给出 codelist 或 values")
        return self


class UniqueParams(BaseModel):
    """Params of ``unique``: ``field`` (name or ``$id``)."""

    model_config = ConfigDict(extra="forbid")
    field: str


class ConsistentNameParams(BaseModel):
    """Params of ``consistent_name``: ``code_field``, ``name_field``, ``codelist``."""

    model_config = ConfigDict(extra="forbid")
    code_field: str
    name_field: str
    codelist: str = DLBM_CODELIST


class ForbiddenUnlessParams(BaseModel):
    """Params of ``forbidden_unless``: ``fields`` and the ``unless`` condition."""

    model_config = ConfigDict(extra="forbid")
    fields: list[str] = Field(min_length=1)
    unless: Condition


class RangeParams(BaseModel):
    """Params of ``range``: ``field``, ``min``/``max`` and their inclusiveness."""

    model_config = ConfigDict(extra="forbid")
    field: str
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    @model_validator(mode="after")
    def _check(self) -> RangeParams:
        if self.min is None and self.max is None:
            raise ValueError("range 至少需要 min 或 max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min 不得大于 max")
        return self


class PatternParams(BaseModel):
    """Params of ``pattern``: ``field`` and ``regex`` (full match)."""

    model_config = ConfigDict(extra="forbid")
    field: str
    regex: str

    @field_validator("regex")
    @classmethod
    def _regex(cls, v: str) -> str:
        _compile(v)
        return v


class NumericParams(BaseModel):
    """Params of ``numeric``: ``fields`` (list, or ``$numeric``)."""

    model_config = ConfigDict(extra="forbid")
    fields: list[str] | Literal["$numeric"]


#: Rule kinds and the model of their params.
RULE_KINDS: dict[str, type[BaseModel]] = {
    "required": RequiredParams,
    "required_if": RequiredIfParams,
    "in_codelist": InCodelistParams,
    "unique": UniqueParams,
    "consistent_name": ConsistentNameParams,
    "forbidden_unless": ForbiddenUnlessParams,
    "range": RangeParams,
    "pattern": PatternParams,
    "numeric": NumericParams,
}

RuleKind = Literal[
    "required",
    "required_if",
    "in_codelist",
    "unique",
    "consistent_name",
    "forbidden_unless",
    "range",
    "pattern",
    "numeric",
]


class QcRule(BaseModel):
    """One QC rule of ``qc_rules.yaml``.

    Attributes
    ----------
    id : str
        Rule id, used as :attr:`onemap.errors.Problem.rule`.
    title : str
        Chinese title, the start of every message.
    severity : {"error", "warning"}
        Where problems go.
    applies_to : list of str
        Layer names, or ``["*"]`` for every layer.
    kind : str
        One of :data:`RULE_KINDS`.
    params : dict
        Kind-specific parameters (validated; parsed form in :attr:`spec`).
    when : Condition or None
        Row filter: the rule only looks at rows matching it.
    note : str or None
        Remarks.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    severity: Literal["error", "warning"]
    applies_to: list[str] = Field(min_length=1)
    kind: RuleKind
    params: dict[str, Any] = Field(default_factory=dict)
    when: Condition | None = None
    note: str | None = None
    _spec: BaseModel = PrivateAttr()

    @field_validator("applies_to", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _parse_params(self) -> QcRule:
        self._spec = RULE_KINDS[self.kind].model_validate(self.params)
        if self.kind == "required_if" and self.when is None:
            raise ValueError("required_if 规则须有 when 条件")
        return self

    @property
    def spec(self) -> Any:
        """The params parsed into the kind's model (e.g. :class:`RangeParams`)."""
        return self._spec

    def applies(self, layer: str) -> bool:
        """Return whether the rule applies to ``layer``."""
        return "*" in self.applies_to or layer in self.applies_to

    def conditions(self) -> list[Condition]:
        """Return every condition of the rule (``when`` and ``unless``)."""
        out = [self.when] if self.when is not None else []
        unless = getattr(self._spec, "unless", None)
        if unless is not None:
            out.append(unless)
        return out

    def named_fields(self) -> list[str]:
        """Return the literal field names the rule refers to (``$`` references excluded)."""
        spec = self._spec
        names: list[str] = []
        for attr in ("fields", "exclude"):
            value = getattr(spec, attr, None)
            if isinstance(value, list):
                names += value
        for attr in ("field", "code_field", "name_field"):
            value = getattr(spec, attr, None)
            if isinstance(value, str) and not value.startswith("$"):
                names.append(value)
        names += [c.field for c in self.conditions()]
        return names


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    source: str | None = None
    note: str | None = None
    rules: list[dict[str, Any]]


# --------------------------------------------------------------------------- loaders


@lru_cache(maxsize=4)
def _load_layers(key: SourceKey) -> dict[str, LayerSchema]:
    path = Path(key[0])
    doc = _files.read_yaml(path)
    try:
        parsed = _LayersFile.model_validate(doc)
    except ValidationError as exc:
        raise _files.validation_failure(path, "文件结构", exc) from exc
    out: dict[str, LayerSchema] = {}
    for i, raw in enumerate(parsed.layers):
        where = (
            f"图层 {raw.get('name')}"
            if isinstance(raw, dict) and raw.get("name")
            else (f"第 {i + 1} 个图层")
        )
        try:
            schema = LayerSchema.model_validate(raw)
        except ValidationError as exc:
            raise _files.validation_failure(path, where, exc) from exc
        if schema.name in out:
            raise _files.fail(path, where, "图层名称重复", field="name")
        out[schema.name] = schema
    return out


@lru_cache(maxsize=4)
def _load_codelists(key: SourceKey) -> dict[str, Codelist]:
    path = Path(key[0])
    doc = _files.read_yaml(path)
    try:
        parsed = _CodelistsFile.model_validate(doc)
    except ValidationError as exc:
        raise _files.validation_failure(path, "文件结构", exc) from exc
    out: dict[str, Codelist] = {}
    for name, raw in parsed.codelists.items():
        where = f"代码表 {name}"
        if name == DLBM_CODELIST:
            raise _files.fail(path, where, f"{DLBM_CODELIST} 由地类表提供，不能在此定义")
        try:
            out[name] = Codelist.model_validate(raw)
        except ValidationError as exc:
            raise _files.validation_failure(path, where, exc) from exc
    return out


def _check_layer_codelists(
    path: Path, layers: dict[str, LayerSchema], lists: dict[str, Codelist]
) -> None:
    for layer in layers.values():
        for f in layer.fields:
            if f.codelist is not None and f.codelist != DLBM_CODELIST and f.codelist not in lists:
                raise _files.fail(
                    path,
                    f"图层 {layer.name} 字段 {f.name}",
                    f"代码表 {f.codelist} 未在 {CODELISTS_FILE} 中定义",
                    field="codelist",
                )


@lru_cache(maxsize=4)
def _load_rules(
    key: SourceKey, layers_key: SourceKey, lists_key: SourceKey, set_names: tuple[str, ...]
) -> tuple[QcRule, ...]:
    path = Path(key[0])
    layers = _load_layers(layers_key)
    lists = _load_codelists(lists_key)
    doc = _files.read_yaml(path)
    try:
        parsed = _RulesFile.model_validate(doc)
    except ValidationError as exc:
        raise _files.validation_failure(path, "文件结构", exc) from exc
    rules: list[QcRule] = []
    for i, raw in enumerate(parsed.rules):
        where = (
            f"规则 {raw.get('id')}"
            if isinstance(raw, dict) and raw.get("id")
            else (f"第 {i + 1} 条规则")
        )
        try:
            rule = QcRule.model_validate(raw)
        except ValidationError as exc:
            raise _files.validation_failure(path, where, exc) from exc
        problem = _rule_problem(rule, layers, lists, set_names)
        if problem:
            raise _files.fail(path, where, problem)
        if any(r.id == rule.id for r in rules):
            raise _files.fail(path, where, "规则 id 重复", field="id")
        rules.append(rule)
    return tuple(rules)


def _rule_problem(
    rule: QcRule,
    layers: dict[str, LayerSchema],
    lists: dict[str, Codelist],
    set_names: tuple[str, ...],
) -> str | None:
    """Return a Chinese explanation if the rule refers to things that do not exist."""
    targets = list(layers) if "*" in rule.applies_to else rule.applies_to
    for name in targets:
        if name not in layers:
            return f"applies_to 中的图层 {name} 未在 {LAYERS_FILE} 中定义"
    if "*" not in rule.applies_to:
        for name in targets:
            for f in rule.named_fields():
                if not layers[name].has_field(f):
                    return f"图层 {name} 没有字段 {f}"
    for cond in rule.conditions():
        if cond.op in ("in_set", "not_in_set") and cond.value not in set_names:
            return f"地类集合 {cond.value} 不存在（可用：{', '.join(set_names)}）"
    codelist_name = getattr(rule.spec, "codelist", None)
    if codelist_name is not None and codelist_name != DLBM_CODELIST and codelist_name not in lists:
        return f"代码表 {codelist_name} 未在 {CODELISTS_FILE} 中定义"
    return None


def _layers() -> dict[str, LayerSchema]:
    layers = _load_layers(_files.source_key(LAYERS_FILE))
    lists = _codelists()
    _check_layer_codelists(_files.resolve(LAYERS_FILE), layers, lists)
    return layers


def _codelists() -> dict[str, Codelist]:
    return _load_codelists(_files.source_key(CODELISTS_FILE))


def _unknown(kind: str, name: str, known: list[str]) -> UnknownNameError:
    message = f"未定义的{kind}：{name}（可用：{', '.join(known)}）"
    return UnknownNameError(message, [Problem("unknown_name", message)])


def layer_names() -> list[str]:
    """Return the names of the layers with a schema, in ``layers.yaml`` order.

    Raises
    ------
    DomainDataError
        If ``layers.yaml`` or ``codelists.yaml`` is malformed.
    """
    return list(_layers())


def layer_schema(name: str) -> LayerSchema:
    """Return the schema of one layer.

    Parameters
    ----------
    name : str
        Layer name, e.g. ``"DLTB"`` (case-insensitive).

    Returns
    -------
    LayerSchema
        The schema (shared and frozen).

    Raises
    ------
    UnknownNameError
        If no layer has that name (an :class:`~onemap.errors.InputError` and a ``KeyError``).
    DomainDataError
        If ``layers.yaml`` or ``codelists.yaml`` is malformed.
    """
    layers = _layers()
    key = name.strip().upper() if isinstance(name, str) else name
    if key not in layers:
        raise _unknown("图层", str(name), list(layers))
    return layers[key]


def codelist_names() -> list[str]:
    """Return the names accepted by :func:`codelist` (``dlbm`` first)."""
    return [DLBM_CODELIST, *_codelists()]


def codelist(name: str) -> dict[str, str]:
    """Return one code table as ``{code: name}``.

    Parameters
    ----------
    name : str
        ``dlbm`` (the 三调 level-2 codes) or a table of ``codelists.yaml``,
        e.g. ``qsxz``.

    Returns
    -------
    dict of str to str
        A new dict (safe to modify).

    Raises
    ------
    UnknownNameError
        If no code list has that name.
    DomainDataError
        If a domain file is malformed.
    """
    if name == DLBM_CODELIST:
        lc = land_classes()
        return {code: lc.name(code) for code in sorted(lc.codes)}
    lists = _codelists()
    if name not in lists:
        raise _unknown("代码表", name, codelist_names())
    return dict(lists[name].codes)


def codelist_title(name: str) -> str:
    """Return the Chinese title of a code list (``dlbm`` → 三调工作分类)."""
    if name == DLBM_CODELIST:
        return "三调工作分类"
    lists = _codelists()
    if name not in lists:
        raise _unknown("代码表", name, codelist_names())
    return lists[name].title


def all_qc_rules() -> list[QcRule]:
    """Return every rule of ``qc_rules.yaml`` in file order."""
    return list(
        _load_rules(
            _files.source_key(RULES_FILE),
            _files.source_key(LAYERS_FILE),
            _files.source_key(CODELISTS_FILE),
            tuple(land_classes().set_names),
        )
    )


def qc_rules(layer: str) -> list[QcRule]:
    """Return the QC rules that apply to one layer, in file order.

    Parameters
    ----------
    layer : str
        Layer name (case-insensitive).

    Returns
    -------
    list of QcRule
        Rules whose ``applies_to`` names the layer or ``*``.

    Raises
    ------
    UnknownNameError
        If the layer has no schema.
    DomainDataError
        If a domain file is malformed.
    """
    schema = layer_schema(layer)
    return [r for r in all_qc_rules() if r.applies(schema.name)]
