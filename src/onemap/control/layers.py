"""Which layers a site check overlays (``control/data/check_layers.yaml``)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onemap.control.rules import bureau_file
from onemap.domain.sources import SHIPPED_DIRS
from onemap.errors import DomainDataError, Problem

__all__ = ["LayerSpec", "load_check_layers", "resolve_check_layers"]

DATA_DIR = SHIPPED_DIRS["control"]
DEFAULT_CHECK_LAYERS = DATA_DIR / "check_layers.yaml"

#: Catalog ``kind`` that marks a workspace dataset as a check layer.
CHECK_KIND = "check"


class LayerSpec(BaseModel):
    """One check layer.

    Attributes
    ----------
    dataset : str
        Catalog dataset name.
    title : str
        Chinese name.
    id_field : str
        Attribute reported as the id of hit features (row number if the layer lacks it).
    kind : str
        ``boundary`` layers also report the area outside them.
    group_field : str, optional
        Attribute whose values split the inside area.
    standard : bool
        One of the layers every check must cover.
    register_states : list of str, optional
        When the workspace has no dataset of this name, read the register (台账) of the same
        name instead: its records in these states (e.g. 矿业权 ``valid``; None: no register).
    attributes : dict
        Attribute → Chinese title, reported for each feature hit (with its own area or
        distance), e.g. the 矿山名称 and 矿种 of a 矿业权; the report lists them.
    buffer_m : float, optional
        A point layer (地质灾害隐患点): report the features within this distance of the site
        (ellipsoidal metres), each with its distance, instead of an area.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")
    title: str = Field(min_length=1)
    id_field: str = "BSM"
    kind: Literal["constraint", "boundary", "hazard", "resource", "heritage", "planning",
                  "other"] = (
        "constraint"
    )
    group_field: str | None = None
    standard: bool = False
    register_states: tuple[str, ...] | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    buffer_m: float | None = Field(default=None, gt=0)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    source: str = ""
    layers: list[LayerSpec] = Field(min_length=1)


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> tuple[LayerSpec, ...]:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        parsed = _File.model_validate(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise DomainDataError(f"无法读取检查图层配置 {p.name}：{exc}",
                              [Problem("check_layers_file", str(exc), file=p.name)]) from exc
    except ValidationError as exc:
        problems = [
            Problem("check_layers_schema",
                    f"{'.'.join(str(x) for x in e['loc'])}：{e['msg']}", file=p.name)
            for e in exc.errors()
        ]
        raise DomainDataError(f"检查图层配置 {p.name} 格式错误", problems) from exc
    names = [spec.dataset for spec in parsed.layers]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DomainDataError(f"检查图层配置 {p.name} 中数据集重复：{'、'.join(dup)}",
                              [Problem("check_layers_schema", "数据集重复", file=p.name)])
    return tuple(parsed.layers)


def load_check_layers(path: str | Path | None = None) -> list[LayerSpec]:
    """Load and validate a check-layer file.

    By default ``check_layers.yaml`` of the directory named by
    ``ONEMAP_DOMAIN_DIR`` when it has one, else the shipped file.

    Raises
    ------
    onemap.errors.DomainDataError
        If the file is unreadable or malformed.
    """
    p = bureau_file("check_layers.yaml", path)
    return list(_load(str(p.resolve()), p.stat().st_mtime))


def resolve_check_layers(
    catalog: Iterable[tuple[str, str, str]],
    check_layers: str | Path | Iterable[str | LayerSpec | dict] | None = None,
) -> list[LayerSpec]:
    """The check layers of one workspace.

    Parameters
    ----------
    catalog : iterable of (dataset, title, kind)
        The workspace's datasets.
    check_layers : path, list, or None
        None: the shipped configuration plus every dataset whose catalog kind
        is ``"check"``. A path: that YAML instead of the shipped one (plus the
        catalog-marked datasets). A list (dataset names, dicts or
        :class:`LayerSpec`): the standard layers plus those.

    Returns
    -------
    list of LayerSpec
        Standard layers first, no duplicates.
    """
    catalog = list(catalog)
    if check_layers is None or isinstance(check_layers, str | Path):
        specs = load_check_layers(check_layers)
        for name, title, kind in catalog:
            if kind == CHECK_KIND and name not in {s.dataset for s in specs}:
                specs.append(LayerSpec(dataset=name, title=title or name, kind="other"))
    else:
        shipped = {s.dataset: s for s in load_check_layers()}
        specs = [s for s in shipped.values() if s.standard]
        titles = {name: title for name, title, _ in catalog}
        for item in check_layers:
            if isinstance(item, LayerSpec):
                spec = item
            elif isinstance(item, dict):
                spec = LayerSpec.model_validate(item)
            else:
                spec = shipped.get(item) or LayerSpec(
                    dataset=item, title=titles.get(item) or item, kind="other")
            specs = [s for s in specs if s.dataset != spec.dataset] + [spec]
    specs.sort(key=lambda s: not s.standard)
    return specs
