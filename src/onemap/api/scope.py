"""County scope: the one rule for every place where layer rows leave the server.

A county-scoped user (``User.county``, e.g. ``640324``) sees only the rows of
a *sensitive* layer whose county field starts with that code; every other
layer is public. Which layers are sensitive, and by which field, is data
(``security.yaml`` → ``scope.sensitive``). Cases are scoped the same way by
:func:`onemap.store.users.authorize` with the case's county.

The OGC API items, single features, vector tiles, point identification and
tabulation all ask :func:`visible_rows` (or :func:`scoped_frame`); statistics
of a sensitive layer are refused to a county-scoped user.

Registers (台账) are kept by the county offices like cases: a county-scoped
user sees, moves and imports only records whose county code starts with the
user's (:func:`register_scope`), in the REST API, the OGC collections of the
registers and the web panel.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from onemap.domain.security import SensitiveLayer, security_policy
from onemap.store.base import VersionInfo
from onemap.store.users import PermissionDenied, User


def restriction(user: User, dataset: str) -> SensitiveLayer | None:
    """The sensitive-layer rule limiting ``user`` on ``dataset`` (None: the user sees every row)."""
    if not user.county:
        return None
    return security_policy().scope.layer(dataset)


def visible_rows(user: User, info: VersionInfo, gdf: gpd.GeoDataFrame) -> np.ndarray | None:
    """Boolean mask of the rows ``user`` may see (None: all of them).

    A sensitive layer without its county field shows a scoped user nothing
    (the rule cannot be applied, so nothing is assumed public).
    """
    rule = restriction(user, info.dataset)
    if rule is None:
        return None
    if rule.county_field not in gdf.columns:
        return np.zeros(len(gdf), dtype=bool)
    codes = gdf[rule.county_field].astype("string").fillna("")
    return codes.str.startswith(user.county).to_numpy(dtype=bool)


def visible(user: User, info: VersionInfo, gdf: gpd.GeoDataFrame, rows: np.ndarray) -> np.ndarray:
    """The subset of row numbers ``rows`` that ``user`` may see (order kept)."""
    mask = visible_rows(user, info, gdf)
    return rows if mask is None else rows[mask[rows]]


def scoped_frame(user: User, info: VersionInfo, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The rows of a version ``user`` may see (the frame itself when unrestricted)."""
    mask = visible_rows(user, info, gdf)
    return gdf if mask is None else gdf[mask]


def scoped_records(user: User, dataset: str, records: list[dict]) -> list[dict] | None:
    """The records (dicts with the layer's county field) of ``dataset`` that ``user`` may see.

    None when the user is not restricted on ``dataset`` (keep the summary as it is).
    """
    rule = restriction(user, dataset)
    if rule is None:
        return None
    return [r for r in records if str(r.get(rule.county_field) or "").startswith(user.county)]


def refuse_summary(user: User, info: VersionInfo) -> None:
    """Refuse a whole-layer summary (statistics, export) of a sensitive layer to a scoped user.

    Raises
    ------
    onemap.store.users.PermissionDenied
        The layer is sensitive and the user is county-scoped.
    """
    rule = restriction(user, info.dataset)
    if rule is not None:
        raise PermissionDenied(
            f"权限不足：{rule.title or rule.dataset}（{rule.dataset}）为敏感图层，"
            f"县级用户只能查看本县（{user.county}）的要素，不能汇总全市数据")


def register_scope(user: User) -> str | None:
    """The county-code prefix limiting ``user`` on every register (None: the whole city)."""
    return user.county or None
