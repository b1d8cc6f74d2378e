"""REST API of the registers (台账) under ``/api/registers``: every register of the ledger engine alike.

Thin adapters over :mod:`onemap.app.ledgers` (the CLI's ``onemap ledger`` use
cases): the list of registers with their schema, the records of one (filters,
pages, deadline warnings), one record with its history in the audit chain, a
move of its flow, an import from an uploaded file (all or nothing) and the XLSX
export. A register added as a YAML file appears here without code.

Who may do what: reading needs ``read``; a move needs ``case`` (办理) and a role
the flow lists for that action (the flow data decides, refusal 403); an import
needs ``edit``. A county-scoped user sees, moves and imports only records of
the county (:func:`onemap.api.scope.register_scope`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from onemap.api.auth import Reader, context
from onemap.api.errors import NotFound, PayloadTooLarge
from onemap.api.redact import redact
from onemap.api.scope import register_scope
from onemap.app import ledgers
from onemap.domain.security import security_policy
from onemap.errors import InputError
from onemap.ledgers.flow import TransitionError
from onemap.ledgers.schema import Register, load_register
from onemap.ledgers.tables import TABLE_SUFFIXES
from onemap.store.users import PermissionDenied, User, authorize, in_scope

router = APIRouter(prefix="/registers", tags=["台账"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: File types an import accepts (tables, geodata, 拐点 text).
IMPORT_SUFFIXES = {*TABLE_SUFFIXES, ".zip", ".shp", ".gpkg", ".geojson", ".json", ".gdb"}
#: Largest page of records one request returns.
MAX_PAGE = 1000

Name = Annotated[str, PathParam(max_length=60, description="台账代码或名称，如 KYQ / 矿业权")]
RecordNo = Annotated[str, PathParam(max_length=120, description="记录编号")]


class ActionBody(BaseModel):
    """One move of a record's flow."""

    action: str = Field(max_length=40, description="操作代码（见 GET /api/registers 的 actions）")
    fields: dict[str, Any] = Field(default_factory=dict,
                                   description="操作的字段（如 验收 的 YSRQ），说明写在 notes")


def _register(name: str) -> Register:
    """The register named ``name`` (code or title); 404 when there is none."""
    try:
        return load_register(name)
    except InputError as exc:
        if any(p.rule == "unknown_register" for p in exc.problems):
            raise NotFound(exc.message, exc.problems) from exc
        raise


def _within(user: User, county: str | None) -> str | None:
    """The county prefix a listing is limited to; refuse a county outside the user's scope."""
    if county and not in_scope(user, county):
        raise PermissionDenied(f"权限不足：您只能查看县级行政区 {user.county} 的台账记录")
    return register_scope(user)


def _record(request: Request, reg: Register, record: str, user: User, permission: str) -> dict[str, Any]:
    """One record, after checking that ``user`` may ``permission`` it (its county in scope)."""
    got = ledgers.get_record(context(request).store, reg.name, record)
    authorize(user, permission, county=str(got.get("county") or ""))
    return got


# ---------------------------------------------------------------------------- read
@router.get("", summary="台账列表（每个台账的字段、状态、记录数、期限预警数）")
def list_registers(request: Request, user: Reader) -> dict[str, Any]:
    """Every register with its fields (titles), states, actions, record count and warnings."""
    return ledgers.register_catalog(context(request).store, within=register_scope(user))


@router.get("/{name}/export.xlsx", summary="导出台账（XLSX，按当前筛选）", response_class=FileResponse)
def export_xlsx(request: Request, name: Name, user: Reader,
                state: Annotated[str | None, Query(max_length=40, description="状态（代码或名称）")] = None,
                county: Annotated[str | None, Query(max_length=12)] = None,
                deadline: Annotated[str | None, Query(max_length=8, description="正常/即将到期/已逾期")] = None,
                q: Annotated[str | None, Query(max_length=100, description="编号或字段值包含的文字")] = None,
                ) -> FileResponse:
    """The records matching the filters as an XLSX workbook (Chinese headers, 状态, 到期日, 期限)."""
    reg = _register(name)
    within = _within(user, county)
    folder = Path(tempfile.mkdtemp(prefix="onemap-register-"))
    try:
        out = ledgers.export_records(context(request).store, reg.name, folder / "register.xlsx",
                                     state=state, county=county, deadline=deadline, text=q, within=within)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(out["xlsx"], media_type=XLSX, filename=f"{reg.title}台账.xlsx",
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/{name}", summary="台账记录（按状态、行政区、期限、文字筛选，分页）")
def list_records(request: Request, name: Name, user: Reader,
                 state: Annotated[str | None, Query(max_length=40, description="状态（代码或名称）")] = None,
                 county: Annotated[str | None, Query(max_length=12)] = None,
                 deadline: Annotated[str | None, Query(max_length=8, description="正常/即将到期/已逾期")] = None,
                 q: Annotated[str | None, Query(max_length=100, description="编号或字段值包含的文字")] = None,
                 offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
                 limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
                 geometry: Annotated[bool, Query(description="附带几何（GeoJSON）")] = False,
                 ) -> dict[str, Any]:
    """A page of records with state, due date and deadline status; ``count`` is all that match."""
    reg = _register(name)
    return ledgers.list_records(context(request).store, reg.name, state=state, county=county,
                                deadline=deadline, text=q, within=_within(user, county),
                                offset=offset, limit=limit, geometry=geometry)


@router.get("/{name}/{record}", summary="台账记录详情（字段、流转、审计链中的历史、可执行操作）")
def get_record(request: Request, name: Name, record: RecordNo, user: Reader) -> dict[str, Any]:
    """One record; 403 outside the user's county."""
    got = _record(request, _register(name), record, user, "read")
    got.pop("geometry_wkb", None)
    return redact(got)


# ---------------------------------------------------------------------------- write
@router.post("/{name}/{record}/actions", summary="台账流转（按台账定义的状态、角色、必填项检查）")
def record_action(request: Request, name: Name, record: RecordNo, body: ActionBody,
                  user: Reader) -> dict[str, Any]:
    """Make one move; the flow's roles decide who may (403), its states and fields what (400)."""
    reg = _register(name)
    _record(request, reg, record, user, "case")
    fields = dict(body.fields)
    moved_to = fields.get(reg.county)
    if moved_to not in (None, "") and not in_scope(user, str(moved_to)):
        raise PermissionDenied(f"权限不足：不能把记录改到本人辖区（{user.county}）以外的行政区 {moved_to}")
    try:
        out = ledgers.act(context(request).store, reg.name, record, body.action, actor=user.username,
                          role=user.role, fields=fields)
    except TransitionError as exc:
        if any(p.rule == "role_not_allowed" for p in exc.problems):
            raise PermissionDenied(exc.message, exc.problems) from exc
        raise
    return redact(out)


@router.post(
    "/{name}/import", summary="导入台账记录（上传 XLSX/CSV/GeoPackage/Shapefile zip/GeoJSON/拐点 TXT；全部正确才导入）",
    openapi_extra={"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "layer": {"type": "string", "description": "工作表或图层"},
            "encoding": {"type": "string", "description": "Shapefile 属性编码，如 GBK"}}}}}}},
)
async def import_file(request: Request, name: Name, user: Reader) -> dict[str, Any]:
    """Import an uploaded file; any bad row refuses the whole file (row, field and rule named)."""
    authorize(user, "edit")
    reg = _register(name)
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise InputError("请以 multipart/form-data 上传台账文件（表单字段 file）")
    form = await request.form()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read"):
        raise InputError("请上传台账文件（表单字段 file）")
    file_name = Path(str(getattr(upload, "filename", "") or "").replace("\\", "/")).name
    if Path(file_name).suffix.lower() not in IMPORT_SUFFIXES:
        raise InputError(f"不支持的台账文件类型：{file_name or '（无文件名）'}"
                         f"（可用 {'、'.join(sorted(IMPORT_SUFFIXES))}）")
    cap = security_policy().limits.site_upload_bytes
    data = await upload.read(cap + 1)
    if len(data) > cap:
        raise PayloadTooLarge(f"上传的台账文件超过 {cap // 2**20} MB")
    layer = form.get("layer") if isinstance(form.get("layer"), str) else None
    encoding = form.get("encoding") if isinstance(form.get("encoding"), str) else None
    folder = Path(tempfile.mkdtemp(prefix="onemap-register-"))
    try:
        path = folder / file_name
        path.write_bytes(data)
        out = await run_in_threadpool(ledgers.import_records, context(request).store, reg.name, path,
                                      actor=user.username, layer=layer or None, encoding=encoding or None,
                                      within=register_scope(user))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return redact(out)
