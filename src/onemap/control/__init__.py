"""Compliance check of a site (合规性审查): land classes occupied, control layers, use-control rules.

Use :class:`SiteChecker` to check many sites against one workspace (layers are
loaded once) and :func:`check_site` for one. The ``onemap check`` use case (JSON dict,
optional DOCX report) is :func:`onemap.services.run_check`.
"""

from onemap.control.check import (
    CheckResult,
    ClassArea,
    LayerResult,
    SiteChecker,
    check_site,
)
from onemap.control.layers import LayerSpec, load_check_layers
from onemap.control.rules import RuleSet, load_rules
from onemap.control.site import Site, prepare_site, read_site

__all__ = [
    "CheckResult",
    "ClassArea",
    "LayerResult",
    "LayerSpec",
    "RuleSet",
    "Site",
    "SiteChecker",
    "check_site",
    "load_check_layers",
    "load_rules",
    "prepare_site",
    "read_site",
]
