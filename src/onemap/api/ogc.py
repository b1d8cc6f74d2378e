"""OGC API – Features, Part 1 (core, GeoJSON, HTML, OpenAPI 3.0) and Part 2 (CRS).

Mounted under ``/ogc``. One collection per layer version, id = the layer name
(``DLTB_2024``). Items are served from the version held in memory
(:class:`onemap.api.context.VersionCache`): a bbox goes through the STRtree,
attribute filters are equality on any property (``?DLBM=0101``, what GDAL
sends), ``numberMatched`` is exact, ``next``/``prev`` links keep every
parameter. Feature ids are the row numbers + 1 (the same ids as in the
vector tiles).

CRS (Part 2): CRS84 (default), EPSG:4490 (the storage CRS), EPSG:4326,
EPSG:3857 and the CGCS2000 Gauss-Krüger zones (3°: EPSG:4513–4554, 6°:
EPSG:4491–4512). ``crs`` reprojects the answer (``Content-Crs`` header says
which); ``bbox-crs`` says in which CRS the ``bbox`` is. Coordinates follow
each CRS's axis order as EPSG defines it: latitude first for EPSG:4490 and
4326, northing first for the Gauss-Krüger CRSs; longitude first for CRS84.

Registers (台账) with geometry are collections too, id ``register_<NAME>``
(``register_KYQ``): the records of the register with their fields, state
(``ZT``), due date (``DQRQ``) and deadline status (``QXZT``), read through
:func:`onemap.app.ledgers.register_frame` on each request (always current),
limited to a county-scoped user's county; feature ids are the record ids.

Why not pygeoapi: its GeoPackage/OGR providers need GDAL's Python bindings
(``osgeo``, not installable from PyPI wheels) or SpatiaLite, its Starlette app
reads one YAML configuration file and an OpenAPI document at import time
(module globals, one per process), it brings Flask, rasterio and their
dependencies, and it knows nothing of our catalog, users or feature ids. The
protocol surface needed here is small; it is implemented over the store.
"""

from __future__ import annotations

import html
import json
import math
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pyproj import CRS, Transformer

from onemap.api.auth import Reader, context
from onemap.api.errors import NotFound
from onemap.api.scope import register_scope, visible, visible_rows
from onemap.app import ledgers
from onemap.errors import InputError
from onemap.store.base import VersionInfo
from onemap.store.gpkgread import layer_fields
from onemap.store.users import User

router = APIRouter()

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
STORAGE_CRS = EPSG_URI.format(code=4490)
OPENAPI_MEDIA = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"

#: EPSG codes offered besides CRS84.
CRS_CODES = [4490, 4326, 3857, *range(4513, 4555), *range(4491, 4513)]
SUPPORTED_CRS = [CRS84] + [EPSG_URI.format(code=c) for c in CRS_CODES]

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000

#: Query parameters with a meaning of their own (everything else is a property filter).
RESERVED = {"f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "token"}

_TRANSFORMERS: dict[tuple[str, str], Transformer] = {}
_TLOCK = threading.Lock()


# ---------------------------------------------------------------------------- CRS helpers
def parse_crs(text: str | None, what: str = "crs") -> str:
    """Normalise a CRS parameter to its URI; refuse CRSs not offered.

    Accepts the OGC URIs, ``EPSG:nnnn``, ``[EPSG:nnnn]`` and ``CRS84``.

    Raises
    ------
    onemap.errors.InputError
        Unknown or unsupported CRS.
    """
    if text is None or text == "":
        return CRS84
    t = text.strip().strip("[]")
    if t.upper() in ("CRS84", "OGC:CRS84", "CRS:84") or t.rstrip("/") == CRS84:
        return CRS84
    code = None
    if t.upper().startswith("EPSG:"):
        code = t[5:]
    elif t.startswith("http://www.opengis.net/def/crs/EPSG/"):
        code = t.rstrip("/").rsplit("/", 1)[-1]
    if code is not None and code.isdigit() and int(code) in CRS_CODES:
        return EPSG_URI.format(code=int(code))
    raise InputError(f"不支持的坐标参照系 {what}={text}（支持 CRS84、EPSG:4490、高斯-克吕格分带等，"
                     "见集合的 crs 列表）")


def _pyproj_name(uri: str) -> str:
    return "OGC:CRS84" if uri == CRS84 else "EPSG:" + uri.rsplit("/", 1)[-1]


def _northing_first(uri: str) -> bool:
    if uri == CRS84:
        return False
    axis = CRS.from_user_input(_pyproj_name(uri)).axis_info
    return bool(axis) and axis[0].direction.lower() in ("north", "south")


def _transformer(src: str, dst: str) -> Transformer:
    key = (src, dst)
    with _TLOCK:
        t = _TRANSFORMERS.get(key)
        if t is None:
            t = Transformer.from_crs(_pyproj_name(src), _pyproj_name(dst), always_xy=True)
            _TRANSFORMERS[key] = t
    return t


def to_output_crs(geoms: np.ndarray, uri: str) -> np.ndarray:
    """Transform EPSG:4490 lon/lat geometries to ``uri`` in its axis order."""
    if uri in (CRS84, STORAGE_CRS) and not _northing_first(uri):
        return geoms
    swap = _northing_first(uri)
    if uri in (CRS84, STORAGE_CRS, EPSG_URI.format(code=4326)):
        t = None  # CGCS2000 and WGS 84 coincide at this precision
    else:
        t = _transformer(STORAGE_CRS, uri)

    def fn(c: np.ndarray) -> np.ndarray:
        x, y = (c[:, 0], c[:, 1]) if t is None else t.transform(c[:, 0], c[:, 1])
        return np.column_stack([y, x] if swap else [x, y])

    return shapely.transform(geoms, fn)


def bbox_to_storage(bbox: list[float], uri: str) -> tuple[float, float, float, float]:
    """A bbox given in ``uri`` (its axis order) as an EPSG:4490 lon/lat envelope."""
    a, b, c, d = bbox
    if _northing_first(uri):
        a, b, c, d = b, a, d, c
    if uri in (CRS84, STORAGE_CRS, EPSG_URI.format(code=4326)):
        return a, b, c, d
    t = _transformer(uri, STORAGE_CRS)
    xs = np.concatenate([np.linspace(a, c, 21), np.full(21, c), np.linspace(c, a, 21),
                         np.full(21, a)])
    ys = np.concatenate([np.full(21, b), np.linspace(b, d, 21), np.full(21, d),
                         np.linspace(d, b, 21)])
    lon, lat = t.transform(xs, ys)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        raise InputError(f"bbox 无法转换到 CGCS2000：{bbox}")
    return float(lon[ok].min()), float(lat[ok].min()), float(lon[ok].max()), float(lat[ok].max())


# ---------------------------------------------------------------------------- negotiation
def wants_html(request: Request) -> bool:
    """HTML for ``f=html`` or a browser's Accept header; JSON otherwise (and by default)."""
    f = request.query_params.get("f")
    if f:
        f = f.lower()
        if f in ("html", "text/html"):
            return True
        if f in ("json", "geojson", "application/json", GEOJSON):
            return False
        raise InputError(f"不支持的格式 f={f}（可选 json、html）")
    accept = request.headers.get("accept", "")
    if "text/html" not in accept:
        return False
    for media in ("application/json", GEOJSON, "application/schema+json"):
        if media in accept and accept.index(media) < accept.index("text/html"):
            return False
    return True


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def _json(body: Any, media: str = "application/json", headers: dict | None = None) -> Response:
    return JSONResponse(body, media_type=media, headers=headers)


# ---------------------------------------------------------------------------- HTML
_STYLE = ("body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;"
          "max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
          "padding:.2em .5em;text-align:left}code{background:#f4f4f4}")


def _page(title: str, body: str, json_href: str) -> HTMLResponse:
    e = html.escape
    doc = (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{e(title)}"
           f"</title><style>{_STYLE}</style></head><body><p><a href='{e(json_href)}'>JSON</a>"
           f"</p><h1>{e(title)}</h1>{body}</body></html>")
    return HTMLResponse(doc)


def _with_f(href: str, f: str) -> str:
    return href + ("&" if "?" in href else "?") + "f=" + f


def _links_html(links: list[dict]) -> str:
    e = html.escape
    items = "".join(f"<li><a href='{e(lk['href'])}'>{e(lk.get('title') or lk['rel'])}</a> "
                    f"<code>{e(lk['rel'])}</code> <code>{e(lk['type'])}</code></li>"
                    for lk in links)
    return f"<ul>{items}</ul>"


# ---------------------------------------------------------------------------- documents
def _collection_doc(request: Request, info: VersionInfo, title: str) -> dict[str, Any]:
    ctx = context(request)
    root = _root(request)
    base = f"{root}/collections/{info.layer}"
    doc: dict[str, Any] = {
        "id": info.layer,
        "title": f"{title} {info.version}" + ("（模拟数据）" if info.meta.synthetic else ""),
        "description": f"数据集 {info.dataset} 版本 {info.version}，{info.feature_count} 个要素"
                       + ("（模拟数据）" if info.meta.synthetic else ""),
        "itemType": "feature",
        "crs": SUPPORTED_CRS,
        "storageCrs": STORAGE_CRS,
        "links": [
            _link(base, "self", "application/json", "本集合"),
            _link(_with_f(base, "html"), "alternate", "text/html", "本集合（网页）"),
            _link(f"{base}/items", "items", GEOJSON, "要素"),
            _link(_with_f(f"{base}/items", "html"), "items", "text/html", "要素（网页）"),
            _link(f"{base}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  "application/schema+json", "可查询属性"),
        ],
        "onemap": {"dataset": info.dataset, "version": info.version, "version_id": info.id,
                   "tiles": f"/tiles/{info.id}/{{z}}/{{x}}/{{y}}.mvt"},
    }
    box = ctx.bounds(info)
    if box is not None:
        doc["extent"] = {"spatial": {"bbox": [list(box)], "crs": CRS84}}
    return doc


#: Collection id prefix of the registers (台账).
REGISTER_PREFIX = "register_"
_FIELD_JSON = {"number": "number", "int": "integer", "bool": "boolean"}


def _register_entries(request: Request, user: User) -> list[dict[str, Any]]:
    """The registers with geometry (catalog entries, counts in the user's scope)."""
    cat = ledgers.register_catalog(context(request).store, within=register_scope(user))
    return [r for r in cat["registers"] if r["has_geometry"]]


def _register_entry(request: Request, cid: str, user: User) -> dict[str, Any]:
    name = cid[len(REGISTER_PREFIX):]
    entry = next((r for r in _register_entries(request, user) if r["name"] == name), None)
    if entry is None:
        raise NotFound(f"没有数据集合 {cid}")
    return entry


def _register_frame(request: Request, name: str, user: User) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """A register's records with geometry in the user's scope (positional rows) and their record ids."""
    gdf = ledgers.register_frame(context(request).store, name, within=register_scope(user))
    return gdf.reset_index(drop=True), gdf.index.to_numpy(dtype=np.int64)


def _register_doc(request: Request, entry: dict[str, Any], gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    root = _root(request)
    cid = REGISTER_PREFIX + entry["name"]
    base = f"{root}/collections/{cid}"
    mark = "（模拟数据）" if entry["synthetic"] else ""
    doc: dict[str, Any] = {
        "id": cid,
        "title": f"{entry['title']}台账{mark}",
        "description": f"台账 {entry['name']}（{entry['title']}），{len(gdf)} 条有图形的记录{mark}",
        "itemType": "feature",
        "crs": SUPPORTED_CRS,
        "storageCrs": STORAGE_CRS,
        "links": [
            _link(base, "self", "application/json", "本集合"),
            _link(_with_f(base, "html"), "alternate", "text/html", "本集合（网页）"),
            _link(f"{base}/items", "items", GEOJSON, "要素"),
            _link(_with_f(f"{base}/items", "html"), "items", "text/html", "要素（网页）"),
            _link(f"{base}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                  "application/schema+json", "可查询属性"),
        ],
        "onemap": {"register": entry["name"], "records": entry["count"],
                   "rest": f"/api/registers/{entry['name']}"},
    }
    if len(gdf) and not gdf.geometry.is_empty.all():
        doc["extent"] = {"spatial": {"bbox": [[float(v) for v in gdf.total_bounds]], "crs": CRS84}}
    return doc


def _register_field_types(entry: dict[str, Any]) -> dict[str, str]:
    """Property names and JSON types of a register collection (its fields, then ZT, DQRQ, QXZT)."""
    out = {f["name"]: _FIELD_JSON.get(f["type"], "string") for f in entry["fields"]}
    out.update(dict.fromkeys(ledgers.FRAME_EXTRA, "string"))
    return out


def _all_collections(request: Request) -> list[tuple[VersionInfo, str]]:
    ctx = context(request)
    return [(v, d.title or d.name) for d in ctx.datasets() for v in d.versions]


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def landing(request: Request, _user: Reader) -> Response:
    """Landing page."""
    root = _root(request)
    ctx = context(request)
    settings = getattr(ctx.store, "settings", None)
    name = settings().get("name", "") if callable(settings) else ""
    doc = {
        "title": f"{name or 'OneMap'} — OGC API 要素服务",
        "description": "自然资源一张图的矢量数据（OGC API – Features 第 1、2 部分）",
        "links": [
            _link(root, "self", "application/json", "本页"),
            _link(_with_f(root, "html"), "alternate", "text/html", "本页（网页）"),
            _link(f"{root}/api", "service-desc", OPENAPI_MEDIA, "API 定义（OpenAPI 3.0）"),
            _link(f"{root}/api.html", "service-doc", "text/html", "API 文档"),
            _link(f"{root}/conformance", "conformance", "application/json", "符合的标准类"),
            _link(f"{root}/collections", "data", "application/json", "数据集合"),
        ],
    }
    if wants_html(request):
        return _page(doc["title"], f"<p>{html.escape(doc['description'])}</p>"
                     + _links_html(doc["links"]), _with_f(root, "json"))
    return _json(doc)


@router.get("/conformance", include_in_schema=False)
def conformance(request: Request, _user: Reader) -> Response:
    """Conformance classes."""
    doc = {"conformsTo": CONFORMANCE}
    if wants_html(request):
        items = "".join(f"<li><code>{html.escape(c)}</code></li>" for c in CONFORMANCE)
        return _page("符合的标准类", f"<ul>{items}</ul>",
                     _with_f(_root(request) + "/conformance", "json"))
    return _json(doc)


@router.get("/collections", include_in_schema=False)
def collections(request: Request, _user: Reader) -> Response:
    """All collections: layer versions, then the registers with geometry."""
    root = _root(request)
    cols = [_collection_doc(request, v, t) for v, t in _all_collections(request)]
    cols += [_register_doc(request, e, _register_frame(request, e["name"], _user)[0])
             for e in _register_entries(request, _user)]
    doc = {
        "links": [_link(f"{root}/collections", "self", "application/json", "数据集合"),
                  _link(_with_f(f"{root}/collections", "html"), "alternate", "text/html")],
        "collections": cols,
        "crs": SUPPORTED_CRS,
    }
    if wants_html(request):
        e = html.escape
        rows = "".join(
            f"<tr><td><a href='{e(_with_f(root + '/collections/' + c['id'], 'html'))}'>"
            f"{e(c['id'])}</a></td><td>{e(c['title'])}</td><td>{e(c['description'])}</td></tr>"
            for c in cols)
        return _page("数据集合", f"<table><tr><th>编号</th><th>名称</th><th>说明</th></tr>{rows}"
                     "</table>", _with_f(f"{root}/collections", "json"))
    return _json(doc)


@router.get("/collections/{cid}", include_in_schema=False)
def collection(cid: str, request: Request, _user: Reader) -> Response:
    """One collection."""
    ctx = context(request)
    if cid.startswith(REGISTER_PREFIX):
        entry = _register_entry(request, cid, _user)
        doc = _register_doc(request, entry, _register_frame(request, entry["name"], _user)[0])
    else:
        info = ctx.collection(cid)
        title = next((d.title for d in ctx.datasets() if d.name == info.dataset), info.dataset)
        doc = _collection_doc(request, info, title)
    if wants_html(request):
        extent = doc.get("extent", {}).get("spatial", {}).get("bbox", [[]])[0]
        body = (f"<p>{html.escape(doc['description'])}</p><p>范围（CRS84）：{extent}</p>"
                + _links_html(doc["links"]))
        return _page(doc["title"], body, _with_f(f"{_root(request)}/collections/{cid}", "json"))
    return _json(doc)


@router.get("/collections/{cid}/queryables", include_in_schema=False)
def queryables(cid: str, request: Request, _user: Reader) -> Response:
    """Properties usable as ``?NAME=value`` filters (JSON Schema)."""
    ctx = context(request)
    if cid.startswith(REGISTER_PREFIX):
        entry = _register_entry(request, cid, _user)
        titles = {f["name"]: f["title"] for f in entry["fields"]} | ledgers.FRAME_EXTRA
        props = {name: {"title": titles[name], "type": typ}
                 for name, typ in _register_field_types(entry).items()}
    else:
        info = ctx.collection(cid)
        gdf = ctx.versions.frame(info)
        props = {name: {"title": name, "type": _json_type(gdf[name])}
                 for name in gdf.columns if name != gdf.geometry.name}
    doc = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{_root(request)}/collections/{cid}/queryables",
        "type": "object", "title": cid, "properties": props,
    }
    return _json(doc, "application/schema+json")


def _json_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "string"


def _int_param(request: Request, name: str, default: int, lo: int, hi: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InputError(f"参数 {name} 应为整数：{raw}") from exc
    if value < lo or (hi is not None and value > hi):
        rng = f"{lo}–{hi}" if hi is not None else f"≥ {lo}"
        raise InputError(f"参数 {name} 超出范围（{rng}）：{raw}")
    return value


def _parse_bbox(raw: str) -> list[float]:
    try:
        nums = [float(v) for v in raw.split(",")]
    except ValueError as exc:
        raise InputError(f"bbox 应为 4 个数字：{raw}") from exc
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4 or not all(math.isfinite(v) for v in nums):
        raise InputError(f"bbox 应为 4 个数字（最小x,最小y,最大x,最大y）：{raw}")
    if nums[0] > nums[2] or nums[1] > nums[3]:
        raise InputError(f"bbox 的最小值大于最大值：{raw}")
    return nums


def _filter_mask(gdf: gpd.GeoDataFrame, filters: dict[str, str]) -> np.ndarray:
    mask = np.ones(len(gdf), dtype=bool)
    for name, value in filters.items():
        col = gdf[name]
        if pd.api.types.is_bool_dtype(col):
            want = value.strip().lower() in ("true", "1", "是")
            mask &= (col == want).to_numpy()
        elif pd.api.types.is_numeric_dtype(col):
            try:
                num = float(value)
            except ValueError as exc:
                raise InputError(f"属性 {name} 是数值，过滤值无效：{value}") from exc
            mask &= (col.astype(float) == num).fillna(False).to_numpy()
        else:
            mask &= (col.astype("string") == value).fillna(False).to_numpy(dtype=bool)
    return mask


def _features(gdf: gpd.GeoDataFrame, rows: np.ndarray, crs_uri: str,
              ids: np.ndarray | None = None) -> list[dict[str, Any]]:
    """GeoJSON features of some rows (ids = row + 1, or ``ids[row]``), coordinates in ``crs_uri``."""
    if rows.size == 0:
        return []
    part = gdf.iloc[rows]
    geoms = to_output_crs(np.asarray(part.geometry.array, dtype=object), crs_uri)
    texts = shapely.to_geojson(geoms)
    cols = [c for c in part.columns if c != part.geometry.name]
    props = part[cols].astype(object).where(part[cols].notna(), None).to_dict(orient="records")
    out = []
    for row, text, p in zip(rows.tolist(), texts, props, strict=True):
        out.append({"type": "Feature", "id": row + 1 if ids is None else int(ids[row]),
                    "geometry": json.loads(text) if text is not None else None,
                    "properties": {k: _plain(v) for k, v in p.items()}})
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp | datetime):
        return v.isoformat()
    return v


@router.get("/collections/{cid}/items", include_in_schema=False)
def items(cid: str, request: Request, user: Reader) -> Response:
    """Features of a collection: bbox, property equality filters, paging, CRS (county scope applied)."""
    ctx = context(request)
    info, ids = None, None
    if cid.startswith(REGISTER_PREFIX):
        gdf, ids = _register_frame(request, _register_entry(request, cid, user)["name"], user)
    else:
        info = ctx.collection(cid)
        gdf = ctx.versions.frame(info)
    html_out = wants_html(request)
    q = request.query_params
    limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 0, None)
    crs_uri = parse_crs(q.get("crs"), "crs")
    bbox_crs = parse_crs(q.get("bbox-crs"), "bbox-crs")
    if q.get("bbox-crs") and not q.get("bbox"):
        raise InputError("给出了 bbox-crs 但没有 bbox")
    filters = {k: v for k, v in q.items() if k not in RESERVED}
    unknown = [k for k in filters if k not in gdf.columns or k == gdf.geometry.name]
    if unknown:
        raise InputError(f"未知的查询参数或属性：{'、'.join(unknown)}（可用属性见 queryables）")
    if q.get("bbox"):
        box = bbox_to_storage(_parse_bbox(q["bbox"]), bbox_crs)
        rows = np.sort(gdf.sindex.query(shapely.box(*box), predicate="intersects"))
    else:
        rows = np.arange(len(gdf))
    if info is not None:
        rows = visible(user, info, gdf, rows)
    if filters:
        rows = rows[_filter_mask(gdf.iloc[rows], filters)]
    matched = int(rows.size)
    page = rows[offset:offset + limit]
    feats = _features(gdf, page, crs_uri, ids)
    base = f"{_root(request)}/collections/{cid}/items"
    params = [(k, v) for k, v in q.multi_items() if k not in ("offset", "f")]

    def href(off: int, f: str = "json") -> str:
        return base + "?" + urlencode(params + [("offset", str(off)), ("f", f)])

    links = [
        _link(href(offset), "self", GEOJSON, "本页"),
        _link(href(offset, "html"), "alternate", "text/html", "本页（网页）"),
        _link(f"{_root(request)}/collections/{cid}", "collection", "application/json", "集合"),
    ]
    if offset + limit < matched:
        links.append(_link(href(offset + limit), "next", GEOJSON, "下一页"))
    if offset > 0:
        links.append(_link(href(max(0, offset - limit)), "prev", GEOJSON, "上一页"))
    doc = {
        "type": "FeatureCollection",
        "features": feats,
        "numberMatched": matched,
        "numberReturned": len(feats),
        "timeStamp": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "links": links,
    }
    headers = {"Content-Crs": f"<{crs_uri}>"}
    if html_out:
        return _items_html(doc, cid, href(offset), headers)
    return _json(doc, GEOJSON, headers)


def _items_html(doc: dict, cid: str, json_href: str, headers: dict) -> HTMLResponse:
    e = html.escape
    feats = doc["features"]
    cols = list(feats[0]["properties"]) if feats else []
    head = "".join(f"<th>{e(c)}</th>" for c in ["id", *cols])
    rows = "".join(
        "<tr>" + f"<td>{f['id']}</td>"
        + "".join(f"<td>{e(str(f['properties'].get(c, '')))}</td>" for c in cols) + "</tr>"
        for f in feats)
    nav = _links_html([lk for lk in doc["links"] if lk["rel"] in ("next", "prev")])
    page = _page(f"{cid} 要素（共 {doc['numberMatched']} 个）",
                 f"<table><tr>{head}</tr>{rows}</table>{nav}", json_href)
    page.headers.update(headers)
    return page


@router.get("/collections/{cid}/items/{fid}", include_in_schema=False)
def item(cid: str, fid: str, request: Request, user: Reader) -> Response:
    """One feature (404 outside the user's county scope, as if it did not exist)."""
    ctx = context(request)
    crs_uri = parse_crs(request.query_params.get("crs"), "crs")
    html_out = wants_html(request)
    missing = NotFound(f"集合 {cid} 中没有要素 {fid}")
    if cid.startswith(REGISTER_PREFIX):
        gdf, ids = _register_frame(request, _register_entry(request, cid, user)["name"], user)
        at = np.flatnonzero(ids == int(fid)) if fid.isdigit() and len(fid) < 19 else np.array([])
        if at.size != 1:
            raise missing
        feat = _features(gdf, at, crs_uri, ids)[0]
    else:
        info = ctx.collection(cid)
        gdf = ctx.versions.frame(info)
        mask = visible_rows(user, info, gdf)
        if not fid.isdigit() or not 1 <= int(fid) <= len(gdf) or (
                mask is not None and not mask[int(fid) - 1]):
            raise missing
        feat = _features(gdf, np.array([int(fid) - 1]), crs_uri)[0]
    base = f"{_root(request)}/collections/{cid}"
    feat["links"] = [
        _link(f"{base}/items/{fid}", "self", GEOJSON, "本要素"),
        _link(_with_f(f"{base}/items/{fid}", "html"), "alternate", "text/html"),
        _link(base, "collection", "application/json", "集合"),
    ]
    headers = {"Content-Crs": f"<{crs_uri}>"}
    if html_out:
        e = html.escape
        rows = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>"
                       for k, v in feat["properties"].items())
        page = _page(f"{cid} 要素 {fid}", f"<table>{rows}</table>",
                     _with_f(f"{base}/items/{fid}", "json"))
        page.headers.update(headers)
        return page
    return _json(feat, GEOJSON, headers)


# ---------------------------------------------------------------------------- OpenAPI
def openapi_document(request: Request, user: User) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the OGC API, with one items path per collection.

    GDAL's OAPIF driver reads the query parameters of
    ``/collections/{id}/items`` to learn which properties it may filter on
    server-side, so each collection's path lists its properties.
    """
    ctx = context(request)
    root = _root(request)
    p = "#/components/parameters/"
    err = {"$ref": "#/components/responses/Error"}
    json_any = {"application/json": {"schema": {"type": "object"}},
                "text/html": {"schema": {"type": "string"}}}
    geojson_any = {GEOJSON: {"schema": {"type": "object"}},
                   "text/html": {"schema": {"type": "string"}}}

    def op(op_id: str, summary: str, params: list, content: dict) -> dict[str, Any]:
        return {"get": {"operationId": op_id, "summary": summary, "tags": ["OGC API Features"],
                        "parameters": params,
                        "responses": {"200": {"description": "成功", "content": content},
                                      "400": err, "401": err, "403": err, "404": err}}}

    common = [{"$ref": p + "f"}]
    items_params = [{"$ref": p + n} for n in ("limit", "offset", "bbox", "bbox-crs", "crs", "f")]
    paths: dict[str, Any] = {
        "/": op("getLandingPage", "起始页", common, json_any),
        "/conformance": op("getConformance", "符合的标准类", common, json_any),
        "/collections": op("getCollections", "数据集合", common, json_any),
        "/collections/{collectionId}": op("describeCollection", "集合说明",
                                          [{"$ref": p + "collectionId"}, *common], json_any),
        "/collections/{collectionId}/queryables": op(
            "getQueryables", "可查询属性", [{"$ref": p + "collectionId"}],
            {"application/schema+json": {"schema": {"type": "object"}}}),
        "/collections/{collectionId}/items": op(
            "getFeatures", "要素", [{"$ref": p + "collectionId"}, *items_params], geojson_any),
        "/collections/{collectionId}/items/{featureId}": op(
            "getFeature", "单个要素",
            [{"$ref": p + "collectionId"}, {"$ref": p + "featureId"}, {"$ref": p + "crs"},
             *common], geojson_any),
    }
    layers = [(info.layer, _field_types(ctx, info)) for info, _title in _all_collections(request)]
    layers += [(REGISTER_PREFIX + e["name"], _register_field_types(e))
               for e in _register_entries(request, user)]
    for cid, fields in layers:
        props = [{"name": name, "in": "query", "required": False,
                  "description": f"属性 {name} 等于该值",
                  "schema": {"type": typ}, "style": "form", "explode": False}
                 for name, typ in fields.items()]
        paths[f"/collections/{cid}/items"] = op(
            f"getFeatures_{cid}", f"{cid} 的要素", [*items_params, *props], geojson_any)
    return {
        "openapi": "3.0.3",
        "info": {"title": "OneMap OGC API – Features", "version": "1.0.0",
                 "description": "自然资源一张图的要素服务（OGC API – Features 第 1、2 部分）"},
        "servers": [{"url": root}],
        "paths": paths,
        "components": {
            "parameters": {
                "collectionId": {"name": "collectionId", "in": "path", "required": True,
                                 "schema": {"type": "string"}},
                "featureId": {"name": "featureId", "in": "path", "required": True,
                              "schema": {"type": "string"}},
                "f": {"name": "f", "in": "query", "required": False,
                      "schema": {"type": "string", "enum": ["json", "html"]}},
                "limit": {"name": "limit", "in": "query", "required": False,
                          "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                     "default": DEFAULT_LIMIT}},
                "offset": {"name": "offset", "in": "query", "required": False,
                           "schema": {"type": "integer", "minimum": 0, "default": 0}},
                "bbox": {"name": "bbox", "in": "query", "required": False, "style": "form",
                         "explode": False,
                         "schema": {"type": "array", "minItems": 4, "maxItems": 6,
                                    "items": {"type": "number"}}},
                "bbox-crs": {"name": "bbox-crs", "in": "query", "required": False,
                             "schema": {"type": "string", "format": "uri",
                                        "enum": SUPPORTED_CRS}},
                "crs": {"name": "crs", "in": "query", "required": False,
                        "schema": {"type": "string", "format": "uri", "enum": SUPPORTED_CRS}},
            },
            "responses": {"Error": {"description": "错误（中文说明）", "content": {
                "application/json": {"schema": {"type": "object", "properties": {
                    "error": {"type": "string"}, "message": {"type": "string"},
                    "problems": {"type": "array", "items": {"type": "object"}}}}}}}},
        },
    }


def _field_types(ctx, info: VersionInfo) -> dict[str, str]:
    """Property names and JSON types of a version, without reading its rows."""
    path = getattr(ctx.store, "path", None)
    if path is not None and not ctx.versions.loaded(info.id):
        fields = layer_fields(path, info.layer)
        if fields:
            return fields
    gdf = ctx.versions.frame(info)
    return {c: _json_type(gdf[c]) for c in gdf.columns if c != gdf.geometry.name}


@router.get("/api", include_in_schema=False)
def api_document(request: Request, _user: Reader) -> Response:
    """The OpenAPI document (JSON), or its HTML rendering for browsers."""
    if wants_html(request):
        return api_html(request, _user)
    return _json(openapi_document(request, _user), OPENAPI_MEDIA)


@router.get("/api.html", include_in_schema=False)
def api_html(request: Request, _user: Reader) -> HTMLResponse:
    """A readable list of the OGC API operations."""
    doc = openapi_document(request, _user)
    e = html.escape
    rows = "".join(f"<tr><td><code>GET {e(path)}</code></td><td>{e(v['get']['summary'])}</td>"
                   "</tr>" for path, v in doc["paths"].items())
    return _page("OGC API 文档", f"<table>{rows}</table>", f"{_root(request)}/api")
