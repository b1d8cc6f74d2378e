"""REST API under ``/api``: login and users, catalog, identify, statistics, compliance check, cases.

Thin adapters: each handler checks who asks (:mod:`onemap.api.auth`), calls
the same functions as the CLI (:mod:`onemap.services`, the engines, the user
store) and returns their JSON. Errors are :class:`onemap.errors.OneMapError`
and become HTTP answers in :mod:`onemap.api.errors` only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import shapely
from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from onemap.api.auth import COOKIE, Analyst, Manager, Reader, context
from onemap.api.errors import NotFound, PayloadTooLarge
from onemap.api.limits import parse_json
from onemap.api.redact import redact
from onemap.api.scope import refuse_summary, scoped_frame, scoped_records, visible
from onemap.app.field import case_field_evidence
from onemap.domain.security import security_policy
from onemap.errors import InputError, OneMapError, Problem
from onemap.geo.area import ellipsoidal_area
from onemap.store import audit, users
from onemap.store.users import (
    MIN_PASSWORD,
    ROLES,
    SCOPE_NAMES,
    PermissionDenied,
    User,
    authorize,
    require_login_session,
    session_hours,
)

router = APIRouter()
log = logging.getLogger(__name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DEFAULT_ZONES = "YJJBNTTB,STBHHX,CZKFBJ"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---------------------------------------------------------------------------- bodies
# Roles and scopes are enumerated in the OpenAPI document but checked by the user store,
# whose Chinese message lists the choices.
_ROLE_ENUM = {"enum": list(ROLES)}
_USERNAME = r"^[A-Za-z0-9_.@-]{2,64}$"


class LoginBody(BaseModel):
    """Login request."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class NewUser(BaseModel):
    """A user to create."""

    username: str = Field(pattern=_USERNAME, description="2–64 位字母、数字或 _.@-")
    password: str = Field(min_length=MIN_PASSWORD, max_length=256)
    role: str = Field("viewer", description="admin 管理员 | editor 编辑 | enforcer 执法 | viewer 只读",
                      json_schema_extra=_ROLE_ENUM)
    county: str | None = Field(None, pattern=r"^\d{6}$", description="县级行政区代码，如 640324")
    display_name: str = Field("", max_length=64)


class UserPatch(BaseModel):
    """Changes to a user (absent fields unchanged)."""

    role: str | None = Field(None, json_schema_extra={"enum": [*ROLES, None]})
    county: str | None = Field(None, pattern=r"^(\d{6})?$", description="空字符串取消县级范围")
    display_name: str | None = Field(None, max_length=64)
    active: bool | None = None


class PasswordBody(BaseModel):
    """A new password."""

    password: str = Field(min_length=MIN_PASSWORD, max_length=256)


class TokenBody(BaseModel):
    """An API token to create."""

    name: str = Field("", max_length=100, description="用途，如 审批系统")
    days: int | None = Field(None, ge=1, le=3650,
                             description="有效天数（默认与上限见安全策略 security.yaml）")
    scopes: list[str] = Field(["read"], min_length=1, max_length=3,
                              json_schema_extra={"items": {"type": "string", "enum": list(SCOPE_NAMES)}},
                              description="权限范围：read 只读、case 办理案件、admin 管理")
    username: str | None = Field(None, pattern=_USERNAME, description="为谁创建（仅管理员可为他人创建）")


class SettingBody(BaseModel):
    """A boolean workspace setting."""

    value: bool


# ---------------------------------------------------------------------------- login & users
@router.post("/login", tags=["用户"], summary="登录，取得令牌")
async def login(body: LoginBody, request: Request, response: Response) -> dict[str, Any]:
    """Check the name and password; answer a bearer token (also set as a read-only cookie).

    Repeated failures lock the account (and the client address) for a while
    (429 with ``Retry-After``); the password is hashed on a small thread pool
    of its own, never on the event loop.
    """
    ctx = context(request)
    address = request.client.host if request.client else "unknown"
    ctx.throttle.begin(body.username, address)
    ok = False
    try:
        token, user = await asyncio.get_running_loop().run_in_executor(
            ctx.hashing, users.login, ctx.store.sql_engine(), body.username, body.password)
        ok = True
    except users.AuthError:
        log.warning("登录失败：%s（来自 %s）", body.username, address)
        raise
    finally:
        ctx.throttle.end(body.username, address, ok)
    seconds = session_hours() * 3600
    response.set_cookie(COOKIE, token, max_age=seconds, httponly=True, samesite="lax")
    return {"token": token, "token_type": "bearer", "expires_in": seconds,
            "user": user.to_dict()}


@router.post("/logout", tags=["用户"], summary="注销当前令牌")
def logout(request: Request, user: Reader, response: Response) -> dict[str, Any]:
    """Revoke the token of this request and clear the cookie."""
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2].strip() if header else request.cookies.get(COOKIE, "")
    revoked = bool(token) and users.revoke_token(context(request).store.sql_engine(), token,
                                                 actor=user.username)
    response.delete_cookie(COOKIE)
    return {"revoked": revoked}


@router.get("/me", tags=["用户"], summary="当前用户")
def me(request: Request, user: Reader) -> dict[str, Any]:
    """Who is asking (``anonymous: true`` for the anonymous reader)."""
    out = user.to_dict()
    out["anonymous"] = user.anonymous
    out["permissions"] = sorted(user.permissions())
    return out


@router.get("/users", tags=["用户"], summary="用户列表（管理员）")
def list_users(request: Request, _u: Manager) -> dict[str, Any]:
    """Every user, without password hashes."""
    return {"users": users.list_users(context(request).store.sql_engine()),
            "roles": ROLES}


@router.post("/users", tags=["用户"], status_code=201, summary="新建用户（管理员）")
def create_user(body: NewUser, request: Request,
                admin: Manager) -> dict[str, Any]:
    """Create a user (argon2 password hash, role, optional county scope)."""
    user = users.create_user(context(request).store.sql_engine(), body.username, body.password,
                             role=body.role, county=body.county,
                             display_name=body.display_name, actor=admin.username)
    return user.to_dict()


@router.patch("/users/{username}", tags=["用户"], summary="修改用户（管理员）")
def patch_user(username: str, body: UserPatch, request: Request,
               admin: Manager) -> dict[str, Any]:
    """Change role, county scope, display name or active flag."""
    user = users.update_user(context(request).store.sql_engine(), username, role=body.role,
                             county=body.county, display_name=body.display_name,
                             active=body.active, actor=admin.username)
    return user.to_dict()


@router.put("/users/{username}/password", tags=["用户"], summary="设置密码（本人或管理员）")
def put_password(username: str, body: PasswordBody, request: Request,
                 user: Reader) -> dict[str, Any]:
    """Set a password: one's own, or anybody's for an administrator (a login, not an API token).

    Every token of the user (logins and API tokens) is revoked.
    """
    require_login_session(user, "修改密码")
    if user.username != username:
        authorize(user, "manage")
    revoked = users.set_password(context(request).store.sql_engine(), username, body.password,
                                 actor=user.username)
    return {"username": username, "changed": True, "tokens_revoked": revoked}


@router.post("/tokens", tags=["用户"], status_code=201, summary="创建 API 令牌")
def create_token(body: TokenBody, request: Request,
                 user: Reader) -> dict[str, Any]:
    """An API token for another system, acting as oneself (an administrator may name another user).

    Needs a login: an API token cannot create tokens.
    """
    require_login_session(user, "创建令牌")
    target = body.username or user.username
    if target != user.username:
        authorize(user, "manage")
    token = users.create_token(context(request).store.sql_engine(), target, name=body.name,
                               days=body.days, scopes=body.scopes, actor=user.username)
    return {"token": token, "username": target, "name": body.name, "days": body.days,
            "scopes": body.scopes, "scope_names": [SCOPE_NAMES.get(s, s) for s in body.scopes]}


@router.get("/audit", tags=["用户"], summary="审计日志（管理员）")
def audit_log(request: Request, _u: Manager, entity: str | None = None,
              limit: Annotated[int, Query(ge=1, le=5000)] = 200) -> dict[str, Any]:
    """Audit rows, newest last, and whether the hash chain is intact."""
    from onemap.monitor.service import audit_verify as run

    store = context(request).store
    rows = audit.entries(store.sql_engine(), entity=entity)
    return {"entries": [r.to_dict() for r in rows[-limit:]],
            "verification": redact(run(store))}


@router.get("/audit/verify", tags=["用户"], summary="审计日志校验（管理员）")
def audit_verify(request: Request, _u: Manager) -> dict[str, Any]:
    """The chain, its checkpoints and the records pointing at it (``onemap audit verify``)."""
    from onemap.monitor.service import audit_verify as run

    return redact(run(context(request).store))


@router.put("/settings/anonymous_read", tags=["用户"], summary="是否允许匿名浏览（管理员）")
def put_anonymous_read(body: SettingBody, request: Request,
                       admin: Manager) -> dict[str, Any]:
    """Turn anonymous reading on or off for this workspace."""
    users.set_anonymous_read(context(request).store.sql_engine(), body.value,
                             actor=admin.username)
    return {"anonymous_read": body.value}


# ---------------------------------------------------------------------------- catalog
@router.get("/workspace", tags=["目录"], summary="工作空间")
def workspace(request: Request, _u: Reader) -> dict[str, Any]:
    """Name, region code and extent of the workspace."""
    ctx = context(request)
    settings = getattr(ctx.store, "settings", None)
    s = settings() if callable(settings) else {}
    box = ctx.workspace_bounds()
    return {"name": s.get("name", ""), "region": s.get("region", ""),
            "bbox": list(box) if box else None}


@router.get("/catalog", tags=["目录"], summary="数据目录")
def catalog(request: Request, _u: Reader) -> dict[str, Any]:
    """Datasets with their versions, tile URL templates and OGC collections."""
    ctx = context(request)
    out = []
    for d in ctx.datasets():
        versions = []
        for v in d.versions:
            versions.append({
                "id": v.id, "version": v.version, "layer": v.layer,
                "feature_count": v.feature_count, "synthetic": v.meta.synthetic,
                "created_at": v.created_at, "source_file": v.meta.source_file,
                "tiles": f"/tiles/{v.id}/{{z}}/{{x}}/{{y}}.mvt",
                "tilejson": f"/tiles/{v.id}.json",
                "collection": f"/ogc/collections/{v.layer}",
                "bbox": list(b) if (b := ctx.bounds(v)) else None,
            })
        out.append({"name": d.name, "title": d.title, "kind": d.kind, "versions": versions})
    return {"datasets": out}


@router.get("/legend/{dataset}", tags=["目录"], summary="图例")
def legend(dataset: str, request: Request, _u: Reader) -> dict[str, Any]:
    """Default colours of a dataset (三调 colours for DLTB)."""
    from onemap.api.legend import legend as make

    ctx = context(request)
    if dataset not in {d.name for d in ctx.datasets()}:
        raise NotFound(f"工作空间中没有数据集 {dataset}")
    settings = getattr(ctx.store, "settings", None)
    return make(dataset, settings() if callable(settings) else {})


@router.get("/identify", tags=["目录"], summary="点查询")
def identify(request: Request, lon: Annotated[float, Query(ge=-180, le=180)],
             lat: Annotated[float, Query(ge=-90, le=90)],
             layers: Annotated[str, Query(description="集合编号，逗号分隔，如 DLTB_2024,XZQ_2024")],
             user: Reader) -> dict[str, Any]:
    """Features of the given collections at a point, with their ellipsoidal area (county scope applied)."""
    from onemap.api.ogc import _plain
    from onemap.geo.area import ellipsoidal_area

    ctx = context(request)
    point = shapely.Point(lon, lat)
    found = []
    for cid in [c.strip() for c in layers.split(",") if c.strip()][:20]:
        info = ctx.collection(cid)
        gdf = ctx.versions.frame(info)
        rows = visible(user, info, gdf, np.sort(gdf.sindex.query(point, predicate="intersects")))
        if rows.size == 0:
            continue
        areas = ellipsoidal_area(gdf.geometry.values[rows])
        cols = [c for c in gdf.columns if c != gdf.geometry.name]
        for r, area in zip(rows.tolist(), areas.tolist(), strict=True):
            props = {c: _plain(gdf.iat[r, gdf.columns.get_loc(c)]) for c in cols}
            props = {k: (None if v is not None and v != v else v) for k, v in props.items()}
            found.append({"collection": cid, "id": r + 1, "properties": props,
                          "area_m2": round(float(area), 2)})
    return {"features": found}


# ---------------------------------------------------------------------------- statistics
def _stats_table(request: Request, user: User, dataset: str, version: str | None, by: str):
    """(version, computation of its bulletin table) after the checks of the request."""
    if by not in ("county", "town", "village"):
        raise InputError(f"统计单元应为 county、town 或 village：{by}")
    ctx = context(request)
    info = ctx.store.version(dataset, version)
    refuse_summary(user, info)
    return info, lambda: _land_use_stats(ctx, dataset, info.version, by)


def _land_use_stats(ctx, dataset: str, version: str, by: str):
    from onemap.services import land_use_stats

    try:
        return land_use_stats(ctx.store, dataset=dataset, version=version, level=by)
    except (KeyError, ValueError) as exc:
        raise InputError(f"数据集 {dataset} 无法统计（需要 DLBM、ZLDWDM、TBDLMJ 字段）：{exc}") \
            from exc


@router.get("/stats", tags=["统计"], summary="土地利用现状汇总（onemap stats --json）")
def stats(request: Request, _u: Reader, dataset: str = "DLTB", version: str | None = None,
          by: str = "county") -> dict[str, Any]:
    """The 三调 bulletin table of a DLTB version, per unit."""
    info, compute = _stats_table(request, _u, dataset, version, by)

    def answer() -> dict[str, Any]:
        table = compute()
        rows = table.rows.drop(columns=["cents"]).to_dict(orient="records")
        groups = table.groups.to_dict(orient="records")
        return json.loads(json.dumps({"source": table.source, "level": table.level,
                                      "rows": rows, "groups_hectare": groups, "xlsx": None},
                                     default=str))

    return context(request).cached(("stats.json", info.id, by), answer)


@router.get("/stats.xlsx", tags=["统计"], summary="土地利用现状汇总表下载（XLSX）",
            response_class=FileResponse)
def stats_xlsx(request: Request, _u: Reader, dataset: str = "DLTB", version: str | None = None,
               by: str = "county") -> FileResponse:
    """The bulletin table as an Excel workbook."""
    from onemap.services import write_stats_xlsx

    info, compute = _stats_table(request, _u, dataset, version, by)
    table = context(request).cached(("stats", info.id, by), compute)
    out = Path(tempfile.mkdtemp(prefix="onemap-")) / "stats.xlsx"
    write_stats_xlsx(table, out)
    src = table.source
    name = f"{src.get('dataset', dataset)}_{src.get('version', '')}_土地利用现状汇总.xlsx"
    return _download(out, XLSX, name)


@router.get("/tabulate", tags=["统计"], summary="分区统计（地类 × 管控分区）")
def tabulate(request: Request, _u: Reader, dataset: str = "DLTB", version: str | None = None,
             zones: Annotated[str, Query(description="分区数据集，逗号分隔")] = DEFAULT_ZONES,
             by: str = "county") -> dict[str, Any]:
    """Area of every land class inside and outside each zone layer, per unit."""
    ctx = context(request)
    if by not in ("county", "town", "village"):
        raise InputError(f"统计单元应为 county、town 或 village：{by}")
    info = ctx.store.version(dataset, version)
    names = [z.strip() for z in zones.split(",") if z.strip()]
    if not names:
        raise InputError("请给出至少一个分区数据集（zones）")
    key = ("tabulate", info.id, tuple(ctx.store.version(n).id for n in names), by, _u.county)
    return ctx.cached(key, lambda: _tabulate(ctx, _u, info, dataset, names, by))


def _tabulate(ctx, _u: User, info, dataset: str, names: list[str], by: str) -> dict[str, Any]:
    from onemap.analysis.tabulate import tabulate as run
    from onemap.services import workspace_unit_names

    zone_frames, sources = {}, {"DLTB": {"dataset": dataset, "version": info.version,
                                         "version_id": info.id}}
    for name in names:
        zinfo = ctx.store.version(name)
        zone_frames[name] = scoped_frame(_u, zinfo, ctx.versions.frame(zinfo))
        sources[name] = {"dataset": name, "version": zinfo.version, "version_id": zinfo.id}
    result = run(scoped_frame(_u, info, ctx.versions.frame(info)), zone_frames, level=by,
                 unit_names=workspace_unit_names(ctx.store), source=sources)
    conflicts = result.conflicts.drop(columns=result.conflicts.geometry.name) \
        if len(result.conflicts) else result.conflicts
    return json.loads(json.dumps({
        "source": result.sources, "level": result.level, "rows": result.to_records(),
        "conflicts": [] if not len(conflicts) else conflicts.to_dict(orient="records"),
    }, default=str))


# ---------------------------------------------------------------------------- compliance check
_SITE_SUFFIXES = {".zip", ".shp", ".kml", ".kmz", ".txt", ".geojson", ".json", ".gpkg"}


async def _site_from_request(request: Request):
    """The site of a check request: a GeoJSON body, or a multipart ``file``."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or not hasattr(upload, "read"):
            raise InputError("请上传地块文件（表单字段 file）")
        name = Path(getattr(upload, "filename", "") or "site.zip").name
        suffix = Path(name).suffix.lower()
        if suffix not in _SITE_SUFFIXES:
            raise InputError(f"不支持的地块文件类型：{name}（可用 zip、kml、报盘 txt、GeoJSON）")
        cap = security_policy().limits.site_upload_bytes
        data = await upload.read(cap + 1)
        if len(data) > cap:
            raise PayloadTooLarge(f"上传的地块文件超过 {cap // 2**20} MB")
        folder = Path(tempfile.mkdtemp(prefix="onemap-site-"))
        path = folder / name
        path.write_bytes(data)
        return str(path), name
    raw = await request.body()
    cap = security_policy().limits.json_bytes
    if len(raw) > cap:
        raise PayloadTooLarge(f"GeoJSON 请求体超过上限 {cap / 2**20:.0f} MB，请压缩为 zip 上传")
    doc = parse_json(raw or b"null", "请求体（应为 GeoJSON 要素或要素集合）")
    if not isinstance(doc, dict) or "type" not in doc:
        raise InputError("请求体应为 GeoJSON Feature、FeatureCollection 或几何对象")
    try:
        if doc["type"] == "FeatureCollection":
            features = doc.get("features") or []
        elif doc["type"] == "Feature":
            features = [doc]
        else:
            features = [{"type": "Feature", "geometry": doc, "properties": {}}]
        if not features:
            raise InputError("GeoJSON 中没有地块")
        gdf = gpd.GeoDataFrame.from_features(features, crs=4490)
    except OneMapError:
        raise
    except Exception as exc:  # noqa: BLE001 - any malformed GeoJSON is the caller's error
        raise InputError(f"无法读取 GeoJSON 地块：{exc}") from exc
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        raise InputError("GeoJSON 地块缺少几何")
    if not set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}:
        raise InputError("地块必须是面（Polygon 或 MultiPolygon）")
    check_site_limits(gdf)
    return gdf, "GeoJSON"


def check_site_limits(gdf: gpd.GeoDataFrame) -> None:
    """Refuse a site over the vertex or area limit (``security.yaml`` → ``limits``) before checking it.

    Raises
    ------
    onemap.errors.InputError
        Too many vertices, or too large a total (ellipsoidal) area.
    """
    limits = security_policy().limits
    geoms = gdf.geometry.values
    vertices = int(shapely.get_num_coordinates(np.asarray(geoms, dtype=object)).sum())
    if vertices > limits.site_vertices:
        raise InputError(f"地块顶点过多：共 {vertices} 个，超过上限 {limits.site_vertices} 个"
                         "（安全策略 limits.site_vertices）")
    hectares = float(np.nansum(ellipsoidal_area(geoms))) / 10_000
    if hectares > limits.site_area_ha:
        raise InputError(f"地块总面积 {hectares:.2f} 公顷，超过上限 {limits.site_area_ha:g} 公顷"
                         "（安全策略 limits.site_area_ha）")


@router.post(
    "/check", tags=["合规审查"], summary="建设项目用地合规性审查",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/geo+json": {"schema": {"type": "object"}},
        "application/json": {"schema": {"type": "object"}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}}}}}}},
)
async def check(request: Request, user: Analyst, use: Annotated[str | None, Query(description="拟用途")] = None,
                flags: Annotated[str | None, Query(description="项目标记，逗号分隔")] = None,
                activity: Annotated[str | None, Query(max_length=50, description="人为活动类型")] = None,
                name: Annotated[str | None, Query(max_length=100, description="地块名称")] = None,
                importance: Annotated[str | None, Query(
                    max_length=20, description="建设项目重要性（重要、较重要、一般）：给出时返回"
                    "地质灾害危险性评估级别")] = None,
                complexity: Annotated[str | None, Query(
                    max_length=10, description="地质环境条件复杂程度（复杂、中等、简单；默认从严取复杂）")] = None,
                ) -> dict[str, Any]:
    """Check a site (GeoJSON in the body, or an uploaded file) against the workspace."""
    from onemap.control import read_site
    from onemap.services import check_assessment

    assessment = check_assessment(importance, complexity)
    site, label = await _site_from_request(request)
    ctx = context(request)

    def run():
        if isinstance(site, str):
            target = read_site(site)
            check_site_limits(target.gdf)
        else:
            target = site
        checker = ctx.checker()
        flag_list = [f.strip() for f in (flags or "").split(",") if f.strip()]
        result = checker.check(target, use=use, flags=flag_list, name=name, activity=activity)
        result.assessment = assessment
        return checker, result

    try:
        checker, result = await run_in_threadpool(ctx.heavy.limit, run)
    finally:
        if isinstance(site, str):
            shutil.rmtree(Path(site).parent, ignore_errors=True)
    check_id = uuid.uuid4().hex[:16]
    ctx.keep_check(check_id, result, checker, user.username)
    out = result.to_dict()
    out["id"] = check_id
    if result.geometry is not None:  # the site as checked (EPSG:4490), for the map to draw
        out["site_geometry"] = json.loads(shapely.to_geojson(result.geometry))
    out["report"] = f"/api/check/{check_id}/report.docx"
    out["checked_by"] = user.username
    return json.loads(json.dumps(out, default=str))


def _kept_check(request: Request, check_id: str, user: User):
    kept = context(request).checks.get(check_id)
    if kept is None:
        raise NotFound(f"没有审查结果 {check_id}（结果只保留在服务运行期间的最近 200 次）")
    return kept


@router.get("/check/{check_id}", tags=["合规审查"], summary="审查结果")
def check_result(check_id: str, request: Request,
                 user: Analyst) -> dict[str, Any]:
    """A check result again."""
    result, _checker, by = _kept_check(request, check_id, user)
    out = result.to_dict()
    out.update(id=check_id, report=f"/api/check/{check_id}/report.docx", checked_by=by)
    return json.loads(json.dumps(out, default=str))


@router.get("/check/{check_id}/report.docx", tags=["合规审查"], summary="审查报告下载（DOCX）",
            response_class=FileResponse)
def check_report(check_id: str, request: Request,
                 user: Analyst) -> FileResponse:
    """The Chinese DOCX report of a check (with the site map when a CJK font is available)."""
    from onemap.control.report import check_context, render_site_map, write_check_docx

    result, checker, _by = _kept_check(request, check_id, user)
    ctx = context(request)
    doc_ctx = check_context(ctx.store, result)
    try:
        png = render_site_map(result, checker, synthetic=bool(doc_ctx.synthetic),
                              map_approval=doc_ctx.map_approval)
    except OneMapError:
        png = None
    out = Path(tempfile.mkdtemp(prefix="onemap-")) / f"check-{check_id}.docx"
    write_check_docx(result, out, map_png=png, context=doc_ctx)
    return _download(out, DOCX, f"合规性审查报告-{check_id}.docx")


# ---------------------------------------------------------------------------- changes
@router.get("/changes", tags=["执法"], summary="变化图斑（onemap changes --json）")
def changes(request: Request, _u: Reader, dataset: str = "DLTB",
            v_from: Annotated[str | None, Query(alias="from", max_length=64)] = None,
            v_to: Annotated[str | None, Query(alias="to", max_length=64)] = None,
            ) -> dict[str, Any]:
    """Change patches between two versions (default the two latest); nothing is stored.

    Change patches are a sensitive layer: a county-scoped user gets the
    patches of the county only, and the city-wide summary is left out.
    """
    from onemap.app.grids import changes_with_chiefs
    from onemap.monitor.service import CHANGESET_DATASET

    out = _engine_call(changes_with_chiefs, context(request).store, dataset, v_from, v_to,
                       save=False, actor=_u.username)
    kept = scoped_records(_u, CHANGESET_DATASET, out.get("changes", []))
    if kept is not None:
        out["changes"] = kept
        for key in ("attribute_edits", "redraws"):
            out[key] = scoped_records(_u, CHANGESET_DATASET, out.get(key, [])) or []
        out["summary"] = {"scope": f"仅本县（{_u.county}）", "changes": len(kept)}
    return out


# ---------------------------------------------------------------------------- cases
def _scoped_case(request: Request, case_id: int, user: User, permission: str) -> dict[str, Any]:
    from onemap.app.grids import case_with_chief

    case = _engine_call(case_with_chief, context(request).store, case_id)
    authorize(user, permission, county=str(case.get("county") or ""))
    return case


@router.get("/cases", tags=["执法"], summary="案件列表（限本人辖区）")
def list_cases(request: Request, user: Reader,
               county: Annotated[str | None, Query(max_length=6)] = None,
               state: Annotated[str | None, Query(max_length=40)] = None,
               overdue: bool = False,
               year: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> dict[str, Any]:
    """Enforcement cases; a county-scoped user sees only the cases of the county."""
    from onemap.monitor.service import list_cases as run

    if county is not None and not users.in_scope(user, county):
        raise PermissionDenied(f"权限不足：您只能查看县级行政区 {user.county} 的案件")
    out = _engine_call(run, context(request).store, county=county, overdue=overdue,
                       state=state, year=year)
    if user.county:
        out["cases"] = [c for c in out["cases"] if users.in_scope(user, c.get("county"))]
        out["count"] = len(out["cases"])
        out["overdue"] = sum(1 for c in out["cases"] if c.get("overdue"))
    return out


@router.get("/cases/flow", tags=["执法"], summary="案件流程（状态、操作、必填项）")
def case_flow(_u: Reader) -> dict[str, Any]:
    """The lifecycle definition the web client builds its forms from."""
    from onemap.monitor.service import case_flow as flow

    return flow()


@router.get("/cases/{case_id}", tags=["执法"], summary="案件详情")
def get_case(request: Request, case_id: Annotated[int, PathParam(ge=1, le=2**62)],
             user: Reader) -> dict[str, Any]:
    """One case with its events and evidence (file names, not server paths); 403 outside the user's county.

    ``field_evidence`` lists the photos of the field app (position, view direction, accuracy,
    flags of the evidence rules, links to the original and the watermarked copy).
    """
    case = _scoped_case(request, case_id, user, "read")
    case["field_evidence"] = case_field_evidence(context(request).store, case["id"])
    return redact(case)


_PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".tif", ".tiff", ".webp"}
#: What a caller may say about an uploaded photo (never where a file is).
_PHOTO_META_KEYS = ("lon", "lat", "time", "taken_at", "note")
_NO_PATHS = ("举证照片只能以文件上传（multipart/form-data 的 photos 字段），"
             "不接受服务器上的文件路径")


def _json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    doc = parse_json(raw, what)
    if not isinstance(doc, dict):
        raise InputError(f"{what}应为 JSON 对象（操作的各字段）")
    return doc


async def _action_fields(request: Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The fields of a case action and its uploaded photos (name, bytes); nothing is written.

    A JSON object, or a multipart form: ``fields`` (a JSON object of the
    action's fields, or plain form fields), ``photos`` (one or more image
    files) and optionally ``photos_meta`` (a JSON list ``[{lon, lat, time,
    note}]`` in the order of the files, for photos without EXIF position/time).
    Photos come only from uploaded bytes: a ``photos`` field naming files is
    refused, and ``path`` keys in ``photos_meta`` are ignored.
    """
    limits = security_policy().limits
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raw = await request.body()
        fields = _json_object(raw, "请求体") if raw.strip() else {}
        if "photos" in fields:
            raise InputError(_NO_PATHS, [Problem("photo_path", _NO_PATHS, field="photos")])
        return fields, []
    form = await request.form()
    fields: dict[str, Any] = {}
    if isinstance(form.get("fields"), str):
        fields = _json_object(form["fields"], "表单字段 fields ")
    for key in set(form.keys()) - {"fields", "photos", "photos_meta"}:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        if values:
            fields[key] = values if len(values) > 1 else values[0]
    if "photos" in fields or any(isinstance(v, str) for v in form.getlist("photos")):
        raise InputError(_NO_PATHS, [Problem("photo_path", _NO_PATHS, field="photos")])
    meta: list[Any] = []
    if isinstance(form.get("photos_meta"), str):
        meta = parse_json(form["photos_meta"], "表单字段 photos_meta ")
        if not isinstance(meta, list):
            raise InputError("表单字段 photos_meta 应为 JSON 列表")
    uploads = [u for u in form.getlist("photos") if hasattr(u, "read")]
    if len(uploads) > limits.photos_per_action:
        raise InputError(f"一次最多上传 {limits.photos_per_action} 张照片（收到 {len(uploads)} 张）")
    photos: list[tuple[str, bytes]] = []
    for upload in uploads:
        name = Path(str(getattr(upload, "filename", "") or "photo.jpg").replace("\\", "/")).name
        if Path(name).suffix.lower() not in _PHOTO_SUFFIXES:
            raise InputError(f"不支持的照片格式：{name}（可用 {'、'.join(sorted(_PHOTO_SUFFIXES))}）")
        data = await upload.read(limits.photo_bytes + 1)
        if len(data) > limits.photo_bytes:
            raise PayloadTooLarge(f"照片 {name} 超过 {limits.photo_bytes // 2**20} MB")
        photos.append((name, data))
    if photos:
        fields["photos"] = [
            {k: item[k] for k in _PHOTO_META_KEYS if k in item}
            if i < len(meta) and isinstance(item := meta[i], dict) else {}
            for i in range(len(photos))
        ]
    return fields, photos


def _evidence_dir(request: Request) -> Path:
    return context(request).store.companion(".evidence")


def _save_photos(folder: Path, photos: list[tuple[str, bytes]],
                 fields: dict[str, Any]) -> list[Path]:
    """Write uploaded photos into ``folder`` and point ``fields["photos"]`` at them."""
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for item, (name, data) in zip(fields.get("photos", []), photos, strict=True):
            path = folder / f"{uuid.uuid4().hex[:12]}_{name}"
            path.write_bytes(data)
            written.append(path)
            item["path"] = str(path)
    except BaseException:
        _remove(written)
        raise
    return written


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


@router.post(
    "/cases/{case_id}/actions/{action}", tags=["执法"], summary="办理案件（核查举证、判定…）",
    openapi_extra={"requestBody": {"required": False, "content": {
        "application/json": {"schema": {"type": "object"}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "fields": {"type": "string", "description": "操作字段（JSON 对象）"},
            "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "photos_meta": {"type": "string", "description": "照片位置与时间（JSON 列表）"},
        }}}}}},
)
async def case_action(request: Request, user: Reader,
                      case_id: Annotated[int, PathParam(ge=1, le=2**62)],
                      action: Annotated[str, PathParam(max_length=40)]) -> dict[str, Any]:
    """Apply a lifecycle action; 403 if the role or the county does not allow it.

    Uploaded photos are kept beside the workspace (``<workspace>.evidence/<case id>/``)
    only when the action succeeds; a refused action leaves no file behind.
    """
    from onemap.monitor.service import case_transition

    await run_in_threadpool(_scoped_case, request, case_id, user, "case")
    fields, photos = await _action_fields(request)
    for reserved in ("now", "store", "case_id", "action", "actor"):  # not the caller's to set
        fields.pop(reserved, None)
    written = _save_photos(_evidence_dir(request) / str(case_id), photos, fields)
    try:
        out = await run_in_threadpool(_engine_call, case_transition, context(request).store,
                                      case_id, action, user.username, **fields)
    except BaseException:
        _remove(written)
        raise
    return redact(out)


# ---------------------------------------------------------------------------- indicators
@router.get("/indicators", tags=["指标"], summary="指标值（各县）")
def indicators(request: Request, _u: Reader,
               year: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> dict[str, Any]:
    """Indicator values per unit for a year (default: the latest DLTB year)."""
    from onemap.app.assessment import ledger_provider
    from onemap.indicators import assess

    ctx = context(request)

    def compute() -> dict[str, Any]:
        d = _engine_call(assess, ctx.store, year=year, ledger=ledger_provider(ctx.store)).to_dict()
        return _jsonable({k: d[k] for k in ("kind", "year", "city_code", "city_name", "counties",
                                             "indicators") if k in d})

    return ctx.cached(("indicators", year), compute)


def _assessment(request: Request, year: int | None, period: str | None):
    from onemap.app.assessment import ledger_provider
    from onemap.indicators import assess

    ctx = context(request)
    return ctx.cached(("assess", year, period),
                      lambda: _engine_call(assess, ctx.store, year=year, period=period,
                                           ledger=ledger_provider(ctx.store)))


@router.get("/assess", tags=["指标"], summary="体检评估")
def assessment(request: Request, _u: Reader,
               year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
               period: Annotated[str | None, Query(max_length=9, description="如 2021-2025")]
               = None) -> dict[str, Any]:
    """The annual health check (or the five-year evaluation with ``period``)."""
    from onemap.app.assessment import ledger_provider
    from onemap.indicators import assess

    ctx = context(request)
    return ctx.cached(("assess.json", year, period), lambda: _jsonable(
        _engine_call(assess, ctx.store, year=year, period=period,
                     ledger=ledger_provider(ctx.store)).to_dict()))


@router.get("/assess/report.docx", tags=["指标"], summary="体检评估报告下载（DOCX）",
            response_class=FileResponse)
def assessment_docx(request: Request, _u: Reader,
                    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
                    period: Annotated[str | None, Query(max_length=9)] = None) -> FileResponse:
    """The 体检/评估 report."""
    from onemap.app.assessment import ledger_provider
    from onemap.indicators import assess, write_assessment_docx

    ctx = context(request)

    def render() -> tuple[bytes, str]:
        result = _engine_call(assess, ctx.store, year=year, period=period,
                              ledger=ledger_provider(ctx.store))
        out = Path(tempfile.mkdtemp(prefix="onemap-")) / "assessment.docx"
        try:
            _engine_call(write_assessment_docx, result, out, ctx.store)
            return out.read_bytes(), f"国土空间规划{result.kind}报告-{result.year}.docx"
        finally:
            shutil.rmtree(out.parent, ignore_errors=True)

    data, name = ctx.cached(("assess.docx", year, period), render)
    return Response(content=data, media_type=DOCX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.get("/assess.xlsx", tags=["指标"], summary="体检评估表格下载（XLSX）",
            response_class=FileResponse)
def assessment_xlsx(request: Request, _u: Reader,
                    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
                    period: Annotated[str | None, Query(max_length=9)] = None) -> FileResponse:
    """The indicator tables."""
    from onemap.indicators import write_assessment_xlsx

    result = _assessment(request, year, period)
    out = Path(tempfile.mkdtemp(prefix="onemap-")) / "assessment.xlsx"
    _engine_call(write_assessment_xlsx, result, out)
    return _download(out, XLSX, f"指标{result.kind}-{result.year}.xlsx")


# ---------------------------------------------------------------------------- helpers
def _download(path: Path, media: str, filename: str) -> FileResponse:
    """Send a file written in its own temporary folder, then remove the folder."""
    return FileResponse(path, media_type=media, filename=filename,
                        background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True))


def _engine_call(fn, *args, **kwargs):
    """Call an engine; data it cannot work with (KeyError/ValueError) becomes a 400."""
    try:
        return fn(*args, **kwargs)
    except OneMapError:
        raise
    except (KeyError, ValueError, TypeError) as exc:
        log.warning("%s 无法处理：%r", getattr(fn, "__name__", fn), exc)
        raise InputError(f"工作空间数据不足或参数无效，无法完成：{type(exc).__name__}: {exc}") \
            from exc


def _jsonable(obj: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, NaN and infinities to None, others to str."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if obj is None or isinstance(obj, str | int | bool):
        return obj
    return str(obj)
