"""Plan indicators and the annual health check (一年一体检、五年一评估).

- :mod:`onemap.indicators.registry` — ``indicators.yaml``: indicators, targets,
  warning rules, as validated data (workspace copies audit-logged).
- :mod:`onemap.indicators.formula` — the formula language (no ``eval``).
- :mod:`onemap.indicators.inputs` — the input form (GDP, population, disposal
  figures, quotas …): template, validation, versioned storage.
- :mod:`onemap.indicators.compute` — evaluating formulas on a workspace per county.
- :mod:`onemap.indicators.assess` — targets, status, trend → :class:`Assessment`.
- :mod:`onemap.indicators.report` — the 体检报告 DOCX and the XLSX tables.

Functions for the CLI / API
---------------------------
``write_input_template(path, units=…, years=…)``   the empty input form (XLSX + CSV)
``import_inputs(store, path, actor)``               validate and store a filled form
``assess(store, year=None, period=None)``           → :class:`Assessment` (``.to_dict()``)
``write_assessment_docx(assessment, path, store)``  the 体检/评估 report
``write_assessment_xlsx(assessment, path)``         the tables
``import_registry(store, path, actor)``             a bureau's edited indicators.yaml
``run_assessment(store, year=…, period=…, docx=…, xlsx=…)``  all of the above for ``onemap assess``
"""

import pandas as pd

from onemap.indicators.assess import Assessment, IndicatorResult, UnitResult, assess, parse_period
from onemap.indicators.compute import UnitFrame, workspace_units
from onemap.indicators.inputs import (
    InputSet,
    import_inputs,
    input_imports,
    load_inputs,
    load_template,
    stored_inputs,
    write_input_template,
)
from onemap.indicators.registry import Registry, import_registry, load_registry
from onemap.reports.xlsx import filing_from_settings

__all__ = [
    "Assessment",
    "IndicatorResult",
    "InputSet",
    "Registry",
    "UnitFrame",
    "UnitResult",
    "assess",
    "import_inputs",
    "import_registry",
    "input_imports",
    "load_inputs",
    "load_registry",
    "load_template",
    "parse_period",
    "run_assessment",
    "stored_inputs",
    "workspace_units",
    "write_assessment_docx",
    "write_assessment_xlsx",
    "write_input_template",
    "write_template_for_workspace",
]


def write_assessment_docx(assessment, path, store=None, **kwargs):
    """Write the 体检/评估 report (see :func:`onemap.indicators.report.write_assessment_docx`)."""
    from onemap.indicators.report import write_assessment_docx as _write

    return _write(assessment, path, store, **kwargs)


def write_assessment_xlsx(assessment, path, filing=None):
    """Write the assessment tables (see :func:`onemap.indicators.report.write_assessment_xlsx`)."""
    from onemap.indicators.report import write_assessment_xlsx as _write

    return _write(assessment, path, filing)


def write_template_for_workspace(store, path, *, years=None):
    """Write the input form pre-filled with the workspace's city and counties.

    Parameters
    ----------
    store : onemap.store.Store
        Workspace (its XZQ/DLTB give the counties).
    path : str or Path
        The ``.xlsx`` (a CSV copy is written beside it).
    years : iterable of int, optional
        Years to pre-fill; default the plan's base year to its last year.

    Returns
    -------
    dict
        ``{"xlsx": path, "csv": path}``.
    """
    reg = load_registry(store=store)
    frame = workspace_units(store)
    if years is None:
        years = range(reg.plan.base_year, reg.plan.period[1] + 1)
    units = [(frame.city_code, frame.city_name)] + [(c, frame.names.get(c, "")) for c in frame.counties]
    return write_input_template(path, units=units, years=years, template=reg.inputs)


def run_assessment(store, *, year=None, period=None, docx=None, xlsx=None, actor: str = "",
                   dpi: int = 150, ledger=None) -> dict:
    """One call for ``onemap assess`` and the API: assess, write the files, return JSON.

    Parameters
    ----------
    store : onemap.store.Store
        Workspace.
    year : int, optional
        Assessment year (default: the period's end, else the latest DLTB version).
    period : str, optional
        ``"2021-2025"`` for the five-year evaluation.
    docx, xlsx : str or Path, optional
        Also write the report / the tables there.
    actor : str
        Who ran it (recorded in the result).
    dpi : int
        Resolution of the report's charts and maps.
    ledger : callable, optional
        Farmland-ledger provider of the ``ledger`` formula kind (:mod:`onemap.app.assessment`).

    Returns
    -------
    dict
        :meth:`Assessment.to_dict` plus ``files`` (``{"docx": path or None, "xlsx": path or None}``)
        and ``actor``.
    """
    a = assess(store, year, period, ledger=ledger)
    files = {"docx": None, "xlsx": None}
    if docx:
        files["docx"] = str(write_assessment_docx(a, docx, store, dpi=dpi))
    if xlsx:
        on = pd.Timestamp(a.generated_at).date() if a.generated_at else None
        files["xlsx"] = str(write_assessment_xlsx(a, xlsx, filing_from_settings(store.settings(), on)))
    out = a.to_dict()
    out["files"] = files
    out["actor"] = actor
    return out
