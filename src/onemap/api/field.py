"""The field app's API under ``/api/field`` (外业核查举证; also for other field tools).

- ``GET /field/tasks``: the logged-in officer's tasks (their county, their role) with the task
  kinds' forms and the evidence rules.
- ``GET /field/offline``: the vector tiles to download for working offline around those tasks,
  with their exact size and the budget.
- ``POST /field/tasks/{task_id}/evidence``: multipart ``photos`` (files), ``meta`` (one JSON
  object per photo in the order of the files, or one JSON list: ``lon``, ``lat``, ``accuracy_m``,
  ``time``, ``heading``, ``sha256``) and ``form`` (a JSON object of the kind's form fields) →
  ``{"accepted", "duplicates", "flags": [{photo, rule, message}], …}``; 409 when the case moved on.
- ``GET /field/tasks/{task_id}/evidence``, ``GET /field/photos/{id}``: the office's view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from onemap.api.auth import Reader, context
from onemap.api.errors import Conflict, PayloadTooLarge
from onemap.api.limits import parse_json
from onemap.api.redact import redact
from onemap.api.scope import restriction
from onemap.app import field as field_app
from onemap.domain.security import security_policy
from onemap.errors import InputError, Problem

router = APIRouter(prefix="/field", tags=["外业"])

_TASK_ID = PathParam(min_length=3, max_length=120, pattern=r"^[a-z_]+-[^/]+$")
_PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".webp"}


@router.get("/tasks", summary="外业任务（本人辖区、本人角色）")
def tasks(request: Request, user: Reader) -> dict[str, Any]:
    """The officer's tasks: cases to 核查 in their county, hazard points due for 巡查."""
    return field_app.list_tasks(context(request).store, user)


@router.get("/offline", summary="离线地图瓦片清单（任务范围，含大小与上限）")
def offline(request: Request, user: Reader) -> dict[str, Any]:
    """Tiles of the task extents for every offline layer, with the exact bytes of each tile."""
    ctx = context(request)
    plan = field_app.offline_plan(ctx.store, user)
    total = 0
    urls: list[dict[str, Any]] = []
    for layer in plan["layers"]:
        info = ctx.version_by_id(layer["version_id"])
        scoped = restriction(user, info.dataset) is not None
        for z, x, y in plan["tiles"]:
            data = (ctx.scoped_tile(info, user, z, x, y) if scoped
                    else ctx.tiles.tile(info.id, z, x, y))
            total += len(data)
            urls.append({"url": f"/tiles/{info.id}/{z}/{x}/{y}.mvt", "bytes": len(data)})
    return {**plan, "files": urls, "bytes": total, "over_budget": total > plan["budget_bytes"]}


async def _upload(request: Request) -> tuple[list[tuple[str, bytes]], list[Any], dict[str, Any]]:
    """Photos (name, bytes), their meta and the form of a multipart upload; nothing is written."""
    limits = security_policy().limits
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InputError("外业举证须以 multipart/form-data 上传（photos、meta、form）")
    form = await request.form()
    meta: list[Any] = []
    for item in form.getlist("meta"):
        if not isinstance(item, str):
            raise InputError("meta 应为 JSON 文本，不是文件", [Problem("meta", "文件", field="meta")])
        doc = parse_json(item, "表单字段 meta ")
        meta.extend(doc if isinstance(doc, list) else [doc])
    fields: dict[str, Any] = {}
    if isinstance(form.get("form"), str):
        doc = parse_json(form["form"], "表单字段 form ")
        if not isinstance(doc, dict):
            raise InputError("表单字段 form 应为 JSON 对象（任务表单的各字段）")
        fields = doc
    uploads = [u for u in form.getlist("photos") if hasattr(u, "read")]
    if len(uploads) > limits.photos_per_action:
        raise InputError(f"一次最多上传 {limits.photos_per_action} 张照片（收到 {len(uploads)} 张）")
    photos: list[tuple[str, bytes]] = []
    for upload in uploads:
        name = Path(str(getattr(upload, "filename", "") or "photo.jpg").replace("\\", "/")).name
        if Path(name).suffix.lower() not in _PHOTO_SUFFIXES:
            raise InputError(f"不支持的照片格式：{name}（可用 {'、'.join(sorted(_PHOTO_SUFFIXES))}）",
                             [Problem("photo_format", name, file=name)])
        data = await upload.read(limits.photo_bytes + 1)
        if len(data) > limits.photo_bytes:
            raise PayloadTooLarge(f"照片 {name} 超过 {limits.photo_bytes // 2**20} MB")
        photos.append((name, data))
    return photos, meta, fields


@router.post(
    "/tasks/{task_id}/evidence", summary="提交外业举证（照片、拍摄信息、表单）",
    openapi_extra={"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "meta": {"type": "array", "items": {"type": "string"},
                     "description": "每张照片一条 JSON：lon、lat、accuracy_m、time、heading、sha256"},
            "form": {"type": "string", "description": "任务表单（JSON 对象）"},
        }}}}}},
)
async def submit(request: Request, user: Reader,
                 task_id: Annotated[str, _TASK_ID]) -> dict[str, Any]:
    """Receive photos of a task: hash checked, duplicates skipped, flags, watermark, audit.

    The task is looked up first: an unknown task (404) or one outside the user's scope (403) is
    refused before the body is read.
    """
    await run_in_threadpool(field_app.get_task, context(request).store, user, task_id)
    photos, meta, fields = await _upload(request)
    try:
        return await run_in_threadpool(field_app.submit_evidence, context(request).store, user,
                                       task_id, photos, meta, fields)
    except field_app.TaskConflict as exc:
        raise Conflict(exc.message, exc.problems) from exc


@router.get("/tasks/{task_id}/evidence", summary="外业任务的举证照片（位置、方向、标记）")
def task_evidence(request: Request, user: Reader,
                  task_id: Annotated[str, _TASK_ID]) -> dict[str, Any]:
    """The photos received for a task, without server paths."""
    return redact(field_app.task_evidence(context(request).store, user, task_id))


@router.get("/photos/{evidence_id}", summary="外业照片（原图或水印图）", response_class=FileResponse)
def photo(request: Request, user: Reader,
          evidence_id: Annotated[int, PathParam(ge=1, le=2**62)],
          variant: Annotated[str, Query(pattern="^(original|watermarked)$")] = "original"
          ) -> FileResponse:
    """One field photo's file."""
    path, name = field_app.evidence_file(context(request).store, user, evidence_id, variant)
    media = "image/jpeg" if variant == "watermarked" or path.suffix.lower() in (".jpg", ".jpeg") \
        else "application/octet-stream"
    return FileResponse(path, media_type=media, filename=name)
