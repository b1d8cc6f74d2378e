"""Domain tables as data: 三调 classes, 用地用海 2023, layer schemas, code lists, QC rules.

The tables ship as versioned CSV/YAML files in ``onemap/domain/data``; a bureau
may override any of them by putting an edited copy of the same name in the
directory named by the environment variable ``ONEMAP_DOMAIN_DIR``. Every file
is validated when first used (a malformed one raises
:class:`onemap.errors.DomainDataError` naming the file and entry) and cached.

Layer validation against schema and rules is in :mod:`onemap.domain.validate`.
"""

from __future__ import annotations

from onemap.domain import _files
from onemap.domain._files import DATA_FILES, ENV_OVERRIDE_DIR
from onemap.domain.landclass import LandClassTable, land_classes
from onemap.domain.landuse import (
    forbidden_landuse_pairs,
    landuse_classes,
    landuse_name,
    map_to_landuse,
    sandiao_to_landuse,
)
from onemap.domain.layers import (
    Codelist,
    Condition,
    FieldSpec,
    LayerSchema,
    QcRule,
    UnknownNameError,
    all_qc_rules,
    codelist,
    codelist_names,
    codelist_title,
    layer_names,
    layer_schema,
    qc_rules,
)
from onemap.domain.security import SecurityPolicy, security_policy

__all__ = [
    "DATA_FILES",
    "ENV_OVERRIDE_DIR",
    "Codelist",
    "Condition",
    "FieldSpec",
    "LandClassTable",
    "LayerSchema",
    "QcRule",
    "UnknownNameError",
    "all_qc_rules",
    "clear_cache",
    "codelist",
    "codelist_names",
    "codelist_title",
    "data_versions",
    "forbidden_landuse_pairs",
    "land_classes",
    "landuse_classes",
    "landuse_name",
    "layer_names",
    "layer_schema",
    "load_all",
    "map_to_landuse",
    "qc_rules",
    "sandiao_to_landuse",
    "SecurityPolicy",
    "security_policy",
]


def clear_cache() -> None:
    """Forget every loaded table (they are also reloaded when a file's mtime changes)."""
    from onemap.domain import landclass, landuse, layers, security

    for fn in (
        landclass._load,
        landuse._load_landuse,
        landuse._load_forbidden,
        landuse._load_mapping,
        layers._load_layers,
        layers._load_codelists,
        layers._load_rules,
        security._load,
    ):
        fn.cache_clear()


def load_all() -> None:
    """Load and cross-check every domain file, raising on the first problem.

    Raises
    ------
    DomainDataError
        If any file is malformed or the files disagree.
    """
    land_classes()
    landuse_classes()
    sandiao_to_landuse()
    layer_names()
    all_qc_rules()
    security_policy()


def data_versions() -> dict[str, dict[str, str]]:
    """Return, per domain file, the path in use and its declared version.

    Returns
    -------
    dict
        ``{file name: {"path": ..., "version": ..., "overridden": "true"|"false"}}``.

    Raises
    ------
    DomainDataError
        If a file cannot be read or lacks its version.
    """
    out: dict[str, dict[str, str]] = {}
    for name in DATA_FILES:
        path = _files.resolve(name)
        if name.endswith(".csv"):
            version, _ = _files.read_csv(path, ())
        else:
            version = str(_files.read_yaml(path)["version"])
        out[name] = {
            "path": str(path),
            "version": version,
            "overridden": str(path.parent != _files.SHIPPED_DIR).lower(),
        }
    return out
