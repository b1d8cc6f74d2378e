"""全民所有自然资源资产清查 (pure): 实物量 of a land-use version × 清查价格 → 经济价值.

``assets.yaml`` says which 权属性质 codes are 全民所有 and which 集体所有, which
area fields make the 实物量 and which 地类编码 a 资源类型 covers; the prices are
the ``asset_prices`` register's records (:class:`Price`). Areas are exact integer
hundredths of m² (:func:`onemap.util.to_cents`); values are exact to the 分
(:class:`decimal.Decimal`, half up). A 全民所有 class without a price is refused
with its name, never valued at zero.

The 资产负债表 (:func:`balance_sheet`) compares two versions: opening value at the
opening prices, closing value at the closing prices; the change splits into the
实物量变动 (Δ实物量 × closing price) and the 价格变动 (the rest), so
opening + changes = closing exactly, in 实物量 and in value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from onemap.domain import land_classes, sources
from onemap.errors import InputError, Problem
from onemap.ledgers.flow import flow_error
from onemap.util import to_cents

FEN = Decimal("0.01")


class Ownership(BaseModel):
    """One side of the 权属性质 split."""

    model_config = ConfigDict(extra="forbid")
    title: str
    codes: list[str] = Field(min_length=1)


#: Keys a 资产负债表 column may show.
SHEET_KEYS = frozenset(
    ["county", "dlbm", "dlmc", "opening_yuan", "quantity_change_yuan", "price_change_yuan",
     "closing_yuan"]
    + [f"{k}_{u}" for k in ("opening", "change", "closing") for u in ("m2", "mu", "ha")])


class SheetColumn(BaseModel):
    """One column of the 资产负债表 workbook."""

    model_config = ConfigDict(extra="forbid")
    key: str
    header: str

    @field_validator("key")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in SHEET_KEYS:
            raise ValueError(f"不认识的列 {v}（可用：{'、'.join(sorted(SHEET_KEYS))}）")
        return v


class SheetLayout(BaseModel):
    """The 资产负债表 workbook layout (a template the bureau edits)."""

    model_config = ConfigDict(extra="forbid")
    sheet: str
    title: str
    columns: list[SheetColumn] = Field(min_length=1)


class AssetsConfig(BaseModel):
    """``assets.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    price_register: str
    ownership_field: str = "QSXZ"
    public: Ownership
    collective: Ownership
    area_field: str = "TBDLMJ"
    tiankan_field: str = "KCMJ"
    tiankan_code: str = "1203"
    resource_types: dict[str, list[str]]
    balance_sheet: SheetLayout
    sha256: str = ""

    def covers(self, resource_type: str, dlbm: str) -> bool:
        """Whether a 资源类型 covers a 地类编码 (by code or 一级类 prefix)."""
        return any(dlbm == c or (len(c) == 2 and dlbm.startswith(c))
                   for c in self.resource_types.get(resource_type, []))


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> AssetsConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        cfg = AssetsConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise flow_error(path, ".".join(str(x) for x in err["loc"]), err["msg"]) from exc
    both = set(cfg.public.codes) & set(cfg.collective.codes)
    if both:
        raise flow_error(path, "collective.codes", f"权属性质 {'、'.join(sorted(both))} 同时列为全民所有和集体所有")
    return cfg


def load_assets(path: str | Path | None = None) -> AssetsConfig:
    """Load ``assets.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "assets.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


@dataclass(frozen=True)
class Price:
    """One 清查价格 record.

    Attributes
    ----------
    no : str
        价格编号.
    price : Decimal
        元/平方米.
    date : str
        价格时点 (YYYY-MM-DD).
    dlbm, resource_type, county : str
        What it prices ("" when not given: a city-wide price has no county).
    """

    no: str
    price: Decimal
    date: str
    dlbm: str = ""
    resource_type: str = ""
    county: str = ""


def check_prices(prices: Sequence[Price], cfg: AssetsConfig) -> None:
    """Refuse a price that names neither a 地类编码 nor a known 资源类型.

    Raises
    ------
    onemap.errors.InputError
        Naming the 价格编号 and the rule.
    """
    bad = [p for p in prices if not p.dlbm and p.resource_type not in cfg.resource_types]
    if bad:
        known = "、".join(cfg.resource_types)
        raise InputError(
            "清查价格 " + "、".join(p.no for p in bad)
            + f" 既没有地类编码，资源类型也不在 assets.yaml 中（可选：{known}）",
            [Problem("price_target", f"资源类型“{p.resource_type}”无法对应地类", row=p.no, field="ZYLX")
             for p in bad])


# ---------------------------------------------------------------------------- 实物量
def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    s = frame[col]
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def quantities(dltb: pd.DataFrame, cfg: AssetsConfig, *, what: str = "DLTB") -> pd.DataFrame:
    """实物量 of one land-use version by county × ownership × 地类编码.

    Parameters
    ----------
    dltb : pandas.DataFrame
        ``ZLDWDM``, ``DLBM``, the area field (TBDLMJ), the ownership field (QSXZ);
        the 田坎 field (KCMJ) when present; ``BSM`` names rows in messages.
    cfg : AssetsConfig
        The 资产清查 parameters (``assets.yaml``).
    what : str
        The dataset and version, for messages.

    Returns
    -------
    pandas.DataFrame
        ``county, ownership, dlbm, cents`` (hundredths of m², int64), sorted.

    Raises
    ------
    onemap.errors.InputError
        A field is missing, or a patch's 权属性质 is blank or not in either list (BSM named).
    """
    need = ["ZLDWDM", "DLBM", cfg.area_field, cfg.ownership_field]
    missing = [c for c in need if c not in dltb.columns]
    if missing:
        raise InputError(f"{what}缺少资产清查所需字段：{'、'.join(missing)}",
                         [Problem("required_field", "缺少字段", field=c) for c in missing])
    own_code = _text(dltb, cfg.ownership_field)
    side = own_code.map({**{c: cfg.public.title for c in cfg.public.codes},
                         **{c: cfg.collective.title for c in cfg.collective.codes}})
    bad = side.isna()
    if bad.any():
        bsm = _text(dltb, "BSM") if "BSM" in dltb.columns else pd.Series(
            [f"第{i + 1}行" for i in range(len(dltb))], index=dltb.index)
        idx = side[bad].index[:10]
        codes = "、".join(sorted({v or "空" for v in own_code[bad]}))
        raise InputError(
            f"{what}有 {int(bad.sum())} 个图斑的权属性质 {cfg.ownership_field} 为 {codes}，不在全民所有"
            f"（{'、'.join(cfg.public.codes)}）或集体所有（{'、'.join(cfg.collective.codes)}）之列"
            f"（BSM {'、'.join(bsm[idx])}）",
            [Problem("ownership", f"权属性质“{own_code[i]}”无法判定所有权", row=bsm[i],
                     field=cfg.ownership_field) for i in idx])
    county = _text(dltb, "ZLDWDM").str.slice(0, 6)
    dlbm = _text(dltb, "DLBM")
    parts = [pd.DataFrame({"county": county, "ownership": side, "dlbm": dlbm,
                           "cents": to_cents(dltb[cfg.area_field], cfg.area_field)})]
    if cfg.tiankan_field in dltb.columns:
        kc = to_cents(pd.to_numeric(dltb[cfg.tiankan_field], errors="coerce").fillna(0.0),
                      cfg.tiankan_field)
        has = kc != 0
        if has.any():
            parts.append(pd.DataFrame({"county": county[has], "ownership": side[has],
                                       "dlbm": cfg.tiankan_code, "cents": kc[has]}))
    frame = pd.concat(parts, ignore_index=True)
    out = frame.groupby(["county", "ownership", "dlbm"], sort=True, as_index=False)["cents"].sum()
    return out[out["cents"] != 0].reset_index(drop=True)


# ---------------------------------------------------------------------------- prices
def pick_price(prices: Sequence[Price], cfg: AssetsConfig, county: str, dlbm: str,
               as_of: str | None) -> Price | None:
    """The price of one class in one county (None: none applies).

    Order: 地类编码 exactly, then its 一级类 (two digits), then a 资源类型 listing the code
    itself (湿地 0304), then one covering its 一级类 (林地 03); a county's own price before the
    city-wide one; then the latest 价格时点 not after
    ``as_of`` (None: any date).

    Raises
    ------
    onemap.errors.InputError
        Two prices tie (same rank and date): the 价格编号 are named.
    """
    best: tuple[int, int, str] | None = None
    chosen: list[Price] = []
    for p in prices:
        if as_of and p.date > as_of:
            continue
        if p.county and p.county != county:
            continue
        if p.dlbm == dlbm:
            rank = 4
        elif p.dlbm and len(p.dlbm) == 2 and dlbm.startswith(p.dlbm):
            rank = 3
        elif not p.dlbm and dlbm in cfg.resource_types.get(p.resource_type, []):
            rank = 2
        elif not p.dlbm and cfg.covers(p.resource_type, dlbm):
            rank = 1
        else:
            continue
        key = (rank, 1 if p.county else 0, p.date)
        if best is None or key > best:
            best, chosen = key, [p]
        elif key == best:
            chosen.append(p)
    if len(chosen) > 1:
        nos = "、".join(p.no for p in chosen)
        raise InputError(f"地类 {dlbm}（县 {county}）有多个同级、同价格时点的清查价格：{nos}，请停用其一",
                         [Problem("price_tie", f"价格 {nos} 冲突", field="DLBM")])
    return chosen[0] if chosen else None


def _value(cents: int, price: Decimal) -> Decimal:
    return (Decimal(int(cents)) * price / 100).quantize(FEN, rounding=ROUND_HALF_UP)


def _missing_error(missing: Mapping[str, set[str]], as_of: str | None, what: str) -> InputError:
    names = land_classes()
    items = [f"{code} {names.name(code) if code in names.codes else ''}".strip()
             + f"（县 {'、'.join(sorted(c))}）" for code, c in sorted(missing.items())]
    when = f"价格时点不晚于 {as_of} 的" if as_of else ""
    return InputError(
        f"{what}以下全民所有地类没有{when}有效清查价格，不能计算经济价值（缺价不按零计）：" + "；".join(items),
        [Problem("missing_price", f"地类 {code} 缺少清查价格", field="DLBM") for code in sorted(missing)])


def valuation(q: pd.DataFrame, prices: Sequence[Price], cfg: AssetsConfig, *,
              as_of: str | None = None, what: str = "") -> pd.DataFrame:
    """Value the 全民所有 实物量; 集体所有 rows keep their 实物量 and no value.

    Parameters
    ----------
    q : pandas.DataFrame
        From :func:`quantities`.
    prices : sequence of Price
        The 有效 清查价格.
    cfg : AssetsConfig
        The 资产清查 parameters.
    as_of : str, optional
        Valuation date (YYYY-MM-DD): prices dated later are not used.
    what : str
        The dataset and version, for messages.

    Returns
    -------
    pandas.DataFrame
        ``county, ownership, dlbm, cents, price`` (Decimal or None), ``price_no``,
        ``value`` (Decimal or None).

    Raises
    ------
    onemap.errors.InputError
        A 全民所有 class has no price (every such class named with its counties), or
        two prices tie.
    """
    check_prices(prices, cfg)
    out = q.copy()
    price_col: list[Decimal | None] = []
    nos: list[str] = []
    values: list[Decimal | None] = []
    missing: dict[str, set[str]] = {}
    for county, own, dlbm, cents in zip(q["county"], q["ownership"], q["dlbm"], q["cents"],
                                        strict=True):
        if own != cfg.public.title:
            price_col.append(None)
            nos.append("")
            values.append(None)
            continue
        p = pick_price(prices, cfg, county, dlbm, as_of)
        if p is None:
            missing.setdefault(dlbm, set()).add(county)
            price_col.append(None)
            nos.append("")
            values.append(None)
            continue
        price_col.append(p.price)
        nos.append(p.no)
        values.append(_value(cents, p.price))
    if missing:
        raise _missing_error(missing, as_of, what)
    out["price"] = price_col
    out["price_no"] = nos
    out["value"] = values
    return out


# ---------------------------------------------------------------------------- 资产负债表
def balance_sheet(opening: pd.DataFrame, closing: pd.DataFrame, prices: Sequence[Price],
                  cfg: AssetsConfig, *, opening_as_of: str | None, closing_as_of: str | None,
                  what: tuple[str, str] = ("", "")) -> pd.DataFrame:
    """期初 + 本期变动 = 期末 of the 全民所有 实物量 and value, per county × 地类编码.

    Parameters
    ----------
    opening, closing : pandas.DataFrame
        :func:`quantities` of the two versions.
    prices : sequence of Price
        The 有效 清查价格.
    cfg : AssetsConfig
        The 资产清查 parameters.
    opening_as_of, closing_as_of : str or None
        Valuation dates of the two versions.
    what : (str, str)
        Names of the two versions, for messages.

    Returns
    -------
    pandas.DataFrame
        ``county, dlbm, opening_cents, change_cents, closing_cents`` (int64),
        ``opening_yuan, quantity_change_yuan, price_change_yuan, closing_yuan``
        (Decimal): ``opening + change = closing`` and ``opening_yuan +
        quantity_change_yuan + price_change_yuan = closing_yuan`` exactly.

    Raises
    ------
    onemap.errors.InputError
        A class held in either version has no price at that version's date.
    """
    pub = cfg.public.title
    v0 = valuation(opening[opening["ownership"] == pub], prices, cfg, as_of=opening_as_of,
                   what=what[0])
    v1 = valuation(closing[closing["ownership"] == pub], prices, cfg, as_of=closing_as_of,
                   what=what[1])
    a = v0.set_index(["county", "dlbm"])
    b = v1.set_index(["county", "dlbm"])
    keys = sorted(set(a.index) | set(b.index))
    rows: list[dict[str, Any]] = []
    missing: dict[str, set[str]] = {}
    for county, dlbm in keys:
        q0 = int(a.at[(county, dlbm), "cents"]) if (county, dlbm) in a.index else 0
        q1 = int(b.at[(county, dlbm), "cents"]) if (county, dlbm) in b.index else 0
        val0 = a.at[(county, dlbm), "value"] if q0 else Decimal(0)
        val1 = b.at[(county, dlbm), "value"] if q1 else Decimal(0)
        p1 = b.at[(county, dlbm), "price"] if q1 else pick_price(prices, cfg, county, dlbm,
                                                                closing_as_of)
        if p1 is None:
            missing.setdefault(dlbm, set()).add(county)
            continue
        price1 = p1 if isinstance(p1, Decimal) else p1.price
        dq = _value(q1 - q0, price1)
        rows.append({"county": county, "dlbm": dlbm, "opening_cents": q0,
                     "change_cents": q1 - q0, "closing_cents": q1, "opening_yuan": val0,
                     "quantity_change_yuan": dq, "price_change_yuan": val1 - val0 - dq,
                     "closing_yuan": val1})
    if missing:
        raise _missing_error(missing, closing_as_of, what[1])
    return pd.DataFrame(rows, columns=[
        "county", "dlbm", "opening_cents", "change_cents", "closing_cents", "opening_yuan",
        "quantity_change_yuan", "price_change_yuan", "closing_yuan"])
