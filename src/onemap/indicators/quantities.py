"""Measurement units of indicator values, checked when the registry loads.

Every formula result carries a unit: areas from the map are in 平方米, an
input is in the unit its template field declares, a ratio divides the units
of its operands. The registry is rejected when a formula's unit cannot be
converted to its indicator's unit (an area cannot become a percentage), so a
misconfigured formula never produces a plausible but wrong number.

Units are written as in Chinese statistics: ``公顷``, ``万亩``, ``平方千米``,
``万元``, ``万人``, ``%``, or a quotient of two of them (``平方米/人``,
``平方米/万元``). ``1`` means a pure number.
"""

from __future__ import annotations

from dataclasses import dataclass

from onemap.geo.area import M2_PER_HECTARE, M2_PER_MU

__all__ = ["BASE_UNITS", "Quantity", "UnitError", "convert", "parse_unit"]

#: Known simple units: name → (factor to the base unit, dimension).
BASE_UNITS: dict[str, tuple[float, str | None]] = {
    "平方米": (1.0, "area"),
    "公顷": (M2_PER_HECTARE, "area"),
    "亩": (M2_PER_MU, "area"),
    "万亩": (M2_PER_MU * 1e4, "area"),
    "平方千米": (1e6, "area"),
    "人": (1.0, "person"),
    "万人": (1e4, "person"),
    "元": (1.0, "money"),
    "万元": (1e4, "money"),
    "亿元": (1e8, "money"),
    "个": (1.0, "count"),
    "宗": (1.0, "count"),
    "%": (0.01, None),
    "1": (1.0, None),
}


class UnitError(ValueError):
    """A unit that is unknown, or two units that cannot be converted."""


@dataclass(frozen=True)
class Quantity:
    """A unit: its text, its factor to base units and its dimension exponents.

    Attributes
    ----------
    text : str
        As written, e.g. ``"平方米/万元"``.
    factor : float
        Multiply a value in this unit by it to get base units (m², 人, 元).
    dims : tuple of (str, int)
        Sorted non-zero exponents, e.g. ``(("area", 1), ("money", -1))``.
    """

    text: str
    factor: float
    dims: tuple[tuple[str, int], ...]

    def __truediv__(self, other: Quantity) -> Quantity:
        exps = dict(self.dims)
        for name, e in other.dims:
            exps[name] = exps.get(name, 0) - e
        dims = tuple(sorted((k, v) for k, v in exps.items() if v))
        return Quantity(f"{self.text}/{other.text}", self.factor / other.factor, dims)

    @property
    def dimensionless(self) -> bool:
        """bool: True for pure numbers (``1``, ``%``, area/area …)."""
        return not self.dims

    def describe(self) -> str:
        """Readable dimension, e.g. ``面积/货币``."""
        names = {"area": "面积", "person": "人口", "money": "货币", "count": "数量"}
        num = "·".join(names[k] for k, e in self.dims if e > 0) or "1"
        den = "·".join(names[k] for k, e in self.dims if e < 0)
        return f"{num}/{den}" if den else ("无量纲" if num == "1" else num)


def _simple(text: str) -> Quantity:
    name = text.strip()
    if name not in BASE_UNITS:
        raise UnitError(f"未知计量单位：{name!r}（可用：{'、'.join(BASE_UNITS)}，或用 / 组合）")
    factor, dim = BASE_UNITS[name]
    return Quantity(name, factor, ((dim, 1),) if dim else ())


def parse_unit(text: str) -> Quantity:
    """Parse a unit text.

    Parameters
    ----------
    text : str
        ``"公顷"``, ``"%"``, ``"平方米/人"`` …; at most one ``/``.

    Returns
    -------
    Quantity

    Raises
    ------
    UnitError
        If a part is unknown or there is more than one ``/``.

    Examples
    --------
    >>> parse_unit("平方米/万元").factor
    0.0001
    """
    parts = str(text).split("/")
    if len(parts) > 2:
        raise UnitError(f"计量单位最多含一个 /：{text!r}")
    q = _simple(parts[0])
    if len(parts) == 2:
        q = q / _simple(parts[1])
        q = Quantity(str(text).strip(), q.factor, q.dims)
    return q


def convert(value: float, source: Quantity, target: Quantity) -> float:
    """Convert ``value`` from one unit to another of the same dimension.

    Raises
    ------
    UnitError
        If the dimensions differ.

    Examples
    --------
    >>> convert(0.2046, parse_unit("1"), parse_unit("%"))
    20.46
    """
    if source.dims != target.dims:
        raise UnitError(
            f"单位 {source.text}（{source.describe()}）不能换算为 {target.text}（{target.describe()}）"
        )
    return value * source.factor / target.factor


def validated_unit(text: str) -> str:
    """Return ``text`` if it parses as a unit; raise ``ValueError`` (for pydantic validators) if not."""
    try:
        parse_unit(text)
    except UnitError as exc:
        raise ValueError(str(exc)) from exc
    return text
