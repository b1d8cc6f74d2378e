"""Statistical units derived from 坐落单位代码 (ZLDWDM).

ZLDWDM is 19 characters: 6 county (县级) + 3 town (乡级) + 3 village (村级)
+ 7 group digits. A unit level is a prefix length.
"""

from __future__ import annotations

import pandas as pd

from onemap.errors import InputError

#: Prefix length of ZLDWDM per unit level.
UNIT_LEVELS: dict[str, int] = {"county": 6, "town": 9, "village": 12}

#: Chinese names of the levels.
LEVEL_TITLES: dict[str, str] = {"county": "县级", "town": "乡级", "village": "村级"}


def unit_codes(zldwdm: pd.Series, level: str) -> pd.Series:
    """Return the unit code of every row at ``level``.

    Parameters
    ----------
    zldwdm : pandas.Series
        坐落单位代码 values.
    level : {"county", "town", "village"}
        Unit level.

    Returns
    -------
    pandas.Series of str

    Examples
    --------
    >>> unit_codes(pd.Series(["6403020010010000000"]), "town").tolist()
    ['640302001']
    """
    if level not in UNIT_LEVELS:
        raise InputError(f"不支持的统计单元：{level}（可选：{', '.join(UNIT_LEVELS)}）")
    n = UNIT_LEVELS[level]
    return zldwdm.astype("string").str.strip().str.slice(0, n)


def unit_names(
    xzq: pd.DataFrame | None = None, cjdcq: pd.DataFrame | None = None
) -> dict[str, str]:
    """Map unit codes (county, town, village) to names from XZQ and CJDCQ.

    Parameters
    ----------
    xzq : pandas.DataFrame, optional
        行政区 rows with ``XZQDM`` and ``XZQMC`` (county or town codes).
    cjdcq : pandas.DataFrame, optional
        村级调查区 rows with ``ZLDWDM`` and ``ZLDWMC`` (village names); a
        ``XZMC`` (town name) column is used for town codes when present.

    Returns
    -------
    dict
        Code → name.
    """
    names: dict[str, str] = {}
    if xzq is not None and {"XZQDM", "XZQMC"} <= set(xzq.columns):
        for code, name in zip(xzq["XZQDM"].astype(str), xzq["XZQMC"].astype(str), strict=True):
            names[code.strip()] = name
    if cjdcq is not None and {"ZLDWDM", "ZLDWMC"} <= set(cjdcq.columns):
        codes = cjdcq["ZLDWDM"].astype(str).str.strip()
        for code, name in zip(codes.str.slice(0, 12), cjdcq["ZLDWMC"].astype(str), strict=True):
            names.setdefault(code, name)
        if "XZMC" in cjdcq.columns:
            for code, name in zip(codes.str.slice(0, 9), cjdcq["XZMC"].astype(str), strict=True):
                names.setdefault(code, name)
    return names
