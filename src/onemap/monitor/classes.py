"""What a land-class code means for monitoring: 耕地? 建设? 设施农用地? …

Change patches carry a *before* code (三调 DLBM) and an *after* code that is
either a DLBM (comparing two DLTB versions) or a 监测图斑 TBLX code (imagery).
:func:`describe_codes` turns an array of codes into boolean columns, looking up
each distinct code once, so it costs nothing on millions of rows.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from onemap.monitor import _data

#: The columns :func:`describe_codes` returns.
FLAG_COLUMNS = (
    "cultivated",
    "paddy",
    "agricultural",
    "construction",
    "unused",
    "facility",
    "homestead",
    "mining",
)

_KINDS = ("construction", "cultivated", "agricultural", "facility", "water", "unused", "other")


class TblxCode(BaseModel):
    """One TBLX code of ``tblx.yaml``."""

    model_config = ConfigDict(extra="forbid")
    name: str
    kind: str
    mining: bool = False


@lru_cache(maxsize=4)
def _tblx(key: tuple[str, int]) -> dict[str, TblxCode]:
    path = Path(key[0])
    data, _ = _data.read_yaml(path)
    out: dict[str, TblxCode] = {}
    for code, spec in (data.get("codes") or {}).items():
        try:
            item = TblxCode.model_validate(spec)
        except ValidationError as exc:
            raise _data.fail(path, f"代码 {code}", _data.explain(exc)) from exc
        if item.kind not in _KINDS:
            raise _data.fail(path, f"代码 {code}", f"kind 应为 {'/'.join(_KINDS)}")
        out[str(code)] = item
    return out


def tblx_codes(path: str | Path | None = None) -> dict[str, TblxCode]:
    """Return the TBLX code table (``tblx.yaml``, or an override)."""
    p = _data.resolve("tblx.yaml", path)
    return _tblx((str(p), p.stat().st_mtime_ns))


def _dlbm_flags(code: str) -> tuple[str, dict[str, bool]]:
    from onemap.domain import land_classes

    table = land_classes()
    known = table.is_valid(code)
    name = table.name(code) if known else (code or "未知地类")
    c = code.strip() if isinstance(code, str) else ""
    flags = {
        "cultivated": c in table.code_set("cultivated"),
        "paddy": c == "0101",
        "agricultural": c in table.code_set("agricultural"),
        "construction": c in table.code_set("construction"),
        "unused": c in table.code_set("unused"),
        "facility": c == "1202",
        "homestead": c == "0702",
        "mining": c == "0602",
    }
    return name, flags


def _tblx_flags(code: str) -> tuple[str, dict[str, bool]]:
    item = tblx_codes().get(code.strip() if isinstance(code, str) else "")
    if item is None:
        return (code or "未知类型"), dict.fromkeys(FLAG_COLUMNS, False)
    kind = item.kind
    flags = {
        "cultivated": kind == "cultivated",
        "paddy": False,
        "agricultural": kind in ("cultivated", "agricultural", "facility"),
        "construction": kind == "construction",
        "unused": kind in ("unused", "water"),
        "facility": kind == "facility",
        "homestead": False,
        "mining": item.mining,
    }
    return item.name, flags


def describe_codes(codes, system="DLBM") -> pd.DataFrame:
    """Names and flags of an array of class codes.

    Parameters
    ----------
    codes : array_like of str
        DLBM or TBLX codes; missing values become ``""``.
    system : {"DLBM", "TBLX"} or array_like of those
        Code system, for all rows or per row.

    Returns
    -------
    pandas.DataFrame
        ``name`` plus the boolean :data:`FLAG_COLUMNS`, one row per code.

    Examples
    --------
    >>> describe_codes(["0101", "0601"])[["name", "cultivated", "construction"]].values.tolist()
    [['水田', True, False], ['工业用地', False, True]]
    """
    codes = pd.Series(np.asarray(codes, dtype=object)).fillna("").astype(str).str.strip()
    n = len(codes)
    sys_arr = (np.full(n, system, dtype=object) if isinstance(system, str)
               else np.asarray(system, dtype=object))
    keys = pd.Series(sys_arr).astype(str) + "\x1f" + codes
    uniq, inverse = np.unique(keys.to_numpy(dtype=str), return_inverse=True)
    names = np.empty(len(uniq), dtype=object)
    table = np.zeros((len(uniq), len(FLAG_COLUMNS)), dtype=bool)
    for i, key in enumerate(uniq):
        sysname, code = key.split("\x1f", 1)
        name, flags = (_tblx_flags(code) if sysname == "TBLX" else _dlbm_flags(code))
        names[i] = name
        table[i] = [flags[c] for c in FLAG_COLUMNS]
    out = pd.DataFrame(table[inverse] if n else np.zeros((0, len(FLAG_COLUMNS)), bool),
                       columns=list(FLAG_COLUMNS))
    out.insert(0, "name", names[inverse] if n else np.array([], dtype=object))
    return out
