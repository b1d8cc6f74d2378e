"""Charts (PNG) for reports: trends, county comparisons, status counts — Chinese labels.

Every chart is drawn with matplotlib's Agg backend inside
:func:`onemap.reports.fonts.cjk_rc`, so Chinese titles, axis labels and
legends render with a CJK font (a missing font raises
:class:`~onemap.reports.fonts.FontNotFoundError` instead of drawing boxes).
Functions return the PNG bytes and optionally write them to a file.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from onemap.reports.fonts import cjk_rc
from onemap.reports.numbers import axis_formatter, fmt_number

__all__ = ["bar_chart", "has_values", "indicator_chart", "line_chart", "status_chart"]

#: Colours of the series lines (the first is the city).
SERIES_COLOURS = ("#1F4E79", "#C55A11", "#548235", "#7030A0", "#BF9000", "#2E75B6", "#843C0C",
                  "#375623", "#595959")
TARGET_COLOUR = "#C00000"


def _figure(size: tuple[float, float], ncols: int = 1, widths: Sequence[float] | None = None):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    kw = {"gridspec_kw": {"width_ratios": list(widths)}} if widths else {}
    fig, axes = plt.subplots(1, ncols, figsize=size, **kw)
    return plt, fig, axes


def _finish(plt, fig, out: str | Path | None, dpi: int) -> bytes:
    try:
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        plt.close(fig)
    data = buf.getvalue()
    if out is not None:
        Path(out).write_bytes(data)
    return data


def _label(v: float) -> str:
    """A value label: plain digits with separators (2 decimals below 1 000, none above)."""
    return fmt_number(v, 0 if abs(v) >= 1000 else 2)


def has_values(*collections) -> bool:
    """Whether any of the mappings (or sequences) holds a number (charts without one are not drawn)."""
    for c in collections:
        if not c:
            continue
        values = c.values() if isinstance(c, Mapping) else c
        for v in values:
            if isinstance(v, Mapping):
                if has_values(v):
                    return True
            elif v is not None and not (isinstance(v, float) and math.isnan(v)):
                return True
    return False


def _nan(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def _draw_lines(ax, series: Mapping[str, Mapping[int, float | None]],
                targets: Mapping[int, float] | None, target_label: str, ylabel: str,
                title: str) -> None:
    years = sorted({y for s in series.values() for y in s} | set(targets or {}))
    for i, (name, s) in enumerate(series.items()):
        ys = [_nan(s.get(y)) for y in years]
        ax.plot(years, ys, marker="o", markersize=4, linewidth=2.2 if i == 0 else 1.2,
                color=SERIES_COLOURS[i % len(SERIES_COLOURS)], label=name)
        for x, y in zip(years, ys, strict=True):
            if i == 0 and not math.isnan(y):
                ax.annotate(_label(y), (x, y), textcoords="offset points", xytext=(0, 6),
                            ha="center", fontsize=7, color=SERIES_COLOURS[0])
    if targets:
        ty = sorted(targets)
        ax.plot(ty, [targets[y] for y in ty], linestyle="--", marker="s", markersize=4,
                color=TARGET_COLOUR, linewidth=1.2, label=target_label)
    ax.set_xticks(years)
    ax.set_xticklabels([str(y) for y in years], fontsize=8)
    if years:
        ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    ax.tick_params(axis="y", labelsize=8)
    ax.yaxis.set_major_formatter(axis_formatter())
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="best")


def line_chart(
    series: Mapping[str, Mapping[int, float | None]],
    *,
    title: str = "",
    ylabel: str = "",
    targets: Mapping[int, float] | None = None,
    target_label: str = "目标",
    out: str | Path | None = None,
    size: tuple[float, float] = (6.2, 3.2),
    dpi: int = 150,
) -> bytes:
    """Lines of values over years, with an optional target line.

    Parameters
    ----------
    series : mapping
        Series name → {year: value or None}; the first is drawn bold and labelled.
    title, ylabel : str
        Chart title and y-axis label (Chinese allowed).
    targets : mapping, optional
        Year → target value, drawn dashed red.
    target_label : str
        Legend text of the target line.
    out : str or Path, optional
        Also write the PNG there.
    size : tuple
        Figure size in inches.
    dpi : int
        Resolution.

    Returns
    -------
    bytes
        PNG.
    """
    with cjk_rc():
        plt, fig, ax = _figure(size)
        try:
            _draw_lines(ax, series, targets, target_label, ylabel, title)
        except Exception:
            plt.close(fig)
            raise
        return _finish(plt, fig, out, dpi)


def _draw_bars(ax, labels: Sequence[str], values: Sequence[float | None], colours: Sequence[str],
               ylabel: str, title: str, reference: float | None, reference_label: str) -> None:
    xs = list(range(len(labels)))
    vals = [0.0 if v is None else float(v) for v in values]
    bars = ax.bar(xs, vals, color=list(colours), edgecolor="#444444", linewidth=0.5)
    for b, v in zip(bars, values, strict=True):
        text = "无数据" if v is None else _label(v)
        ax.annotate(text, (b.get_x() + b.get_width() / 2, b.get_height()),
                    textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
    if reference is not None:
        ax.axhline(reference, color=TARGET_COLOUR, linestyle="--", linewidth=1.2,
                   label=reference_label)
        ax.legend(fontsize=7, frameon=False, loc="best")
    ax.set_xticks(xs)
    ax.set_xticklabels(list(labels), fontsize=8, rotation=30 if len(labels) > 4 else 0,
                       ha="right" if len(labels) > 4 else "center")
    ax.tick_params(axis="y", labelsize=8)
    ax.yaxis.set_major_formatter(axis_formatter())
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    colours: Sequence[str] | None = None,
    title: str = "",
    ylabel: str = "",
    reference: float | None = None,
    reference_label: str = "目标",
    out: str | Path | None = None,
    size: tuple[float, float] = (6.2, 3.2),
    dpi: int = 150,
) -> bytes:
    """Bars per category (e.g. county), coloured per bar, with an optional reference line.

    Parameters
    ----------
    labels : sequence of str
        Category names.
    values : sequence of float or None
        Values (None is drawn as an empty bar labelled 无数据).
    colours : sequence of str, optional
        One colour per bar (e.g. by status).
    title, ylabel : str
        Chart title and y-axis label.
    reference : float, optional
        Horizontal line (e.g. the target).
    reference_label : str
        Its legend text.
    out, size, dpi
        As for :func:`line_chart`.

    Returns
    -------
    bytes
        PNG.
    """
    colours = list(colours) if colours else [SERIES_COLOURS[0]] * len(labels)
    with cjk_rc():
        plt, fig, ax = _figure(size)
        try:
            _draw_bars(ax, labels, values, colours, ylabel, title, reference, reference_label)
        except Exception:
            plt.close(fig)
            raise
        return _finish(plt, fig, out, dpi)


def indicator_chart(
    name: str,
    unit: str,
    *,
    series: Mapping[str, Mapping[int, float | None]],
    targets: Mapping[int, float] | None = None,
    bars: Mapping[str, float | None] | None = None,
    bar_colours: Sequence[str] | None = None,
    bar_reference: float | None = None,
    year: int | None = None,
    out: str | Path | None = None,
    size: tuple[float, float] = (7.2, 3.1),
    dpi: int = 150,
) -> bytes:
    """One indicator: its trend (left) and the counties in the assessment year (right).

    Parameters
    ----------
    name, unit : str
        Indicator name and unit (axis label).
    series : mapping
        Series name → {year: value}; the city first.
    targets : mapping, optional
        Year → target of the city.
    bars : mapping, optional
        County name → value in the assessment year (right panel; omitted when empty).
    bar_colours : sequence of str, optional
        Colour per county (status colour).
    bar_reference : float, optional
        Target line over the bars.
    year : int, optional
        Assessment year (panel title).
    out, size, dpi
        As for :func:`line_chart`.

    Returns
    -------
    bytes
        PNG.
    """
    two = bool(bars)
    with cjk_rc():
        plt, fig, axes = _figure(size, 2 if two else 1, (1.25, 1.0) if two else None)
        try:
            ax_line = axes[0] if two else axes
            _draw_lines(ax_line, series, targets, "目标", unit, f"{name}变化趋势")
            if two:
                _draw_bars(axes[1], list(bars), list(bars.values()),
                           list(bar_colours or [SERIES_COLOURS[0]] * len(bars)), unit,
                           f"{year or ''}年各县（市、区）{name}".strip(), bar_reference, "目标")
        except Exception:
            plt.close(fig)
            raise
        return _finish(plt, fig, out, dpi)


def status_chart(
    counts: Mapping[str, int],
    colours: Mapping[str, str],
    *,
    title: str = "指标状态统计",
    out: str | Path | None = None,
    size: tuple[float, float] = (6.0, 2.4),
    dpi: int = 150,
) -> bytes:
    """Horizontal bars of the number of indicators per status.

    Parameters
    ----------
    counts : mapping
        Status → count, in display order.
    colours : mapping
        Status → colour.
    title : str
        Chart title.
    out, size, dpi
        As for :func:`line_chart`.

    Returns
    -------
    bytes
        PNG.
    """
    labels = list(counts)
    with cjk_rc():
        plt, fig, ax = _figure(size)
        try:
            ys = list(range(len(labels)))[::-1]
            ax.barh(ys, [counts[k] for k in labels], color=[colours.get(k, "#888888") for k in labels])
            for y, k in zip(ys, labels, strict=True):
                ax.annotate(f"{counts[k]} 项", (counts[k], y), textcoords="offset points",
                            xytext=(4, 0), va="center", fontsize=8)
            ax.set_yticks(ys)
            ax.set_yticklabels(labels, fontsize=9)
            ax.set_xlabel("指标数（项）", fontsize=8)
            ax.tick_params(axis="x", labelsize=8)
            ax.set_xlim(0, max([1, *counts.values()]) * 1.2)
            ax.set_title(title, fontsize=10)
            ax.grid(axis="x", alpha=0.3)
        except Exception:
            plt.close(fig)
            raise
        return _finish(plt, fig, out, dpi)
