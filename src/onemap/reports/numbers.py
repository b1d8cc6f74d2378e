"""How numbers and areas read in documents and charts: fixed decimals, thousands separators.

Every figure a reader sees goes through :func:`fmt_number` (never scientific
notation, never "-0.00"); areas go through :func:`fmt_area` in one unit per
document (公顷 or 亩 to 2 decimals; 平方米 only where a rule needs it). Chart
axes use :func:`axis_formatter`.
"""

from __future__ import annotations

import math

from onemap.geo.area import M2_PER_HECTARE, M2_PER_MU

__all__ = ["AREA_UNITS", "area_value", "axis_formatter", "fmt_area", "fmt_number"]

#: m² per unit of every area unit a document may use.
AREA_UNITS: dict[str, float] = {"公顷": M2_PER_HECTARE, "亩": M2_PER_MU, "平方米": 1.0}

#: Placeholder of a missing value.
MISSING = "—"


def fmt_number(value: float | int | None, decimals: int = 2, *, missing: str = MISSING) -> str:
    """A number with thousands separators and fixed decimals (no scientific notation).

    Parameters
    ----------
    value : float, int or None
        The number; None or NaN gives ``missing``.
    decimals : int
        Digits after the point.
    missing : str
        Text of a missing value.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_number(301234.5)
    '301,234.50'
    >>> fmt_number(-0.001)
    '0.00'
    >>> fmt_number(None)
    '—'
    """
    if value is None:
        return missing
    x = float(value)
    if math.isnan(x):
        return missing
    text = f"{x:,.{max(decimals, 0)}f}"
    if text.startswith("-") and not any(ch not in "-0.," for ch in text):
        text = text[1:]
    return text


def area_value(m2: float, unit: str) -> float:
    """An area in m² converted to ``unit`` (公顷, 亩 or 平方米)."""
    if unit not in AREA_UNITS:
        raise ValueError(f"未知的面积单位：{unit}（可选：{'、'.join(AREA_UNITS)}）")
    return float(m2) / AREA_UNITS[unit]


def fmt_area(m2: float | None, unit: str = "公顷", decimals: int = 2, *,
             with_unit: bool = False) -> str:
    """An area given in m², written in ``unit`` with thousands separators.

    Examples
    --------
    >>> fmt_area(1234567.0)
    '123.46'
    >>> fmt_area(1234567.0, "亩", with_unit=True)
    '1,851.85 亩'
    """
    if m2 is None:
        return MISSING
    text = fmt_number(area_value(m2, unit), decimals)
    return f"{text} {unit}" if with_unit else text


def axis_formatter(decimals: int | None = None):
    """A matplotlib tick formatter writing plain numbers with thousands separators.

    Parameters
    ----------
    decimals : int, optional
        Fixed decimals; by default as few as the tick values need (up to 4).
    """
    from matplotlib.ticker import FuncFormatter

    def _fmt(x: float, _pos: int | None = None) -> str:
        if decimals is not None:
            return fmt_number(x, decimals)
        for d in range(0, 5):
            if abs(x - round(x, d)) < 1e-9 * max(1.0, abs(x)):
                return fmt_number(x, d)
        return fmt_number(x, 4)

    return FuncFormatter(_fmt)
