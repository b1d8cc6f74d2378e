"""The bureau's side of the public services (login required): moderation, answers, items.

- ``/public-admin/reports`` — reports (``?moderation=pending``: the moderation queue),
  moderating and answering one (permission ``case``);
- ``/public-admin/items`` — 公示 items and consultations, their comments, moderation and
  answers, the published summary and the comment register (XLSX) (permission ``manage``
  for items, ``case`` for comments);
- ``/public-admin/layers`` — marking a layer version public (permission ``manage``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from onemap.api.auth import Manager, context, require
from onemap.api.errors import NotFound
from onemap.app import public
from onemap.errors import WorkspaceError
from onemap.store.users import User

router = APIRouter(prefix="/public-admin", tags=["公众服务管理"])

#: Text with at least one character that is not white space.
NOT_BLANK = r"\S"
#: An ISO date (the calendar check is the use case's).
DATE = r"^\d{4}-\d{2}-\d{2}$"

#: A user allowed to handle cases (moderation and answers).
Handler = Annotated[User, Depends(require("case"))]


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except WorkspaceError as exc:
        raise NotFound(exc.message) from exc


class Moderation(BaseModel):
    """A moderation decision."""

    decision: Literal["通过", "驳回"]
    note: str = Field("", max_length=500)
    answer: str | None = Field(None, max_length=5000, pattern=NOT_BLANK,
                               description="给举报人的答复（驳回时）")


class Answer(BaseModel):
    """A public answer."""

    answer: str = Field(min_length=1, max_length=5000, pattern=NOT_BLANK)


class Item(BaseModel):
    """A 公示 item or consultation."""

    kind: str = Field(min_length=1, max_length=50, pattern=NOT_BLANK,
                      description="规划、批前公示、基准地价、控制线…")
    title: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    start: str = Field(pattern=DATE, description="公示开始日期 YYYY-MM-DD")
    end: str = Field(pattern=DATE, description="公示结束日期 YYYY-MM-DD（不早于开始）")
    description: str = Field("", max_length=5000)
    consult: bool = False
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)


class Summary(BaseModel):
    """The published summary of a consultation's answers."""

    summary: str = Field(min_length=1, max_length=20000, pattern=NOT_BLANK)


class Mark(BaseModel):
    """A layer version made public."""

    dataset: str = Field(max_length=40, description="public.yaml 的 layers 中列出的图层")
    version: str | None = Field(None, max_length=40)
    approval_no: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    approved_on: str = Field(pattern=DATE, description="批准日期 YYYY-MM-DD")


@router.get("/reports", summary="群众举报（审核队列）")
def reports(request: Request, _u: Handler,
            moderation: Annotated[str | None, Query(max_length=20)] = None) -> dict[str, Any]:
    """Reports with their case; ``moderation=pending`` is the queue."""
    rows = public.list_reports(context(request).store, moderation=moderation)
    return {"count": len(rows), "reports": rows}


@router.post("/reports/{receipt}/moderate", summary="审核举报（通过/驳回）")
def moderate_report(request: Request, receipt: Annotated[str, PathParam(max_length=20)],
                    body: Moderation, user: Handler) -> dict[str, Any]:
    """Approve or reject a report; the reporter then sees 不予受理 and the answer."""
    return _call(public.moderate_report, context(request).store, receipt, body.decision,
                 note=body.note, answer=body.answer, actor=user.username)


@router.post("/reports/{receipt}/answer", summary="答复举报人")
def answer_report(request: Request, receipt: Annotated[str, PathParam(max_length=20)],
                  body: Answer, user: Handler) -> dict[str, Any]:
    """Set the public answer shown with the receipt."""
    return _call(public.answer_report, context(request).store, receipt, body.answer,
                 actor=user.username)


@router.get("/items", summary="公示事项（全部）")
def items(request: Request, _u: Handler) -> dict[str, Any]:
    """Every item, past ones included."""
    return {"items": public.list_items(context(request).store, include_past=True)}


@router.post("/items", status_code=201, summary="新建公示/意见征询")
def create_item(request: Request, body: Item, user: Manager) -> dict[str, Any]:
    """Add an item (``consult`` opens it for comments during its period)."""
    return public.create_item(context(request).store, kind=body.kind, title=body.title,
                              start=body.start, end=body.end, description=body.description,
                              consult=body.consult, lon=body.lon, lat=body.lat,
                              actor=user.username)


@router.get("/items/{item_id}/comments", summary="意见列表")
def comments(request: Request, item_id: Annotated[int, PathParam(ge=1, le=2**62)],
             _u: Handler, moderation: Annotated[str | None, Query(max_length=20)] = None
             ) -> dict[str, Any]:
    """Every comment of an item (``moderation=pending``: the queue)."""
    rows = _call(public.list_comments, context(request).store, item_id, moderation=moderation)
    return {"count": len(rows), "comments": rows}


@router.get("/items/{item_id}/comments.xlsx", summary="意见登记表下载（XLSX）",
            response_class=FileResponse)
def comments_xlsx(request: Request, item_id: Annotated[int, PathParam(ge=1, le=2**62)],
                  _u: Handler) -> FileResponse:
    """The register of comments of an item."""
    folder = Path(tempfile.mkdtemp(prefix="onemap-comments-"))
    out = _call(public.comment_register, context(request).store, item_id,
                folder / "意见登记表.xlsx")
    return FileResponse(out["xlsx"], filename=f"意见登记表_{item_id}.xlsx",
                        media_type="application/vnd.openxmlformats-officedocument."
                                   "spreadsheetml.sheet",
                        background=BackgroundTask(_rmtree, folder))


def _rmtree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


@router.post("/comments/{comment_id}/moderate", summary="审核意见（通过/驳回）")
def moderate_comment(request: Request, comment_id: Annotated[int, PathParam(ge=1, le=2**62)],
                     body: Moderation, user: Handler) -> dict[str, Any]:
    """Approve or reject a comment."""
    return _call(public.moderate_comment, context(request).store, comment_id, body.decision,
                 actor=user.username)


@router.post("/comments/{comment_id}/answer", summary="答复意见")
def answer_comment(request: Request, comment_id: Annotated[int, PathParam(ge=1, le=2**62)],
                   body: Answer, user: Handler) -> dict[str, Any]:
    """The bureau's answer to one comment."""
    return _call(public.answer_comment, context(request).store, comment_id, body.answer,
                 actor=user.username)


@router.post("/items/{item_id}/summary", summary="发布答复汇总")
def publish_summary(request: Request, item_id: Annotated[int, PathParam(ge=1, le=2**62)],
                    body: Summary, user: Manager) -> dict[str, Any]:
    """Publish the summary of answers (shown on the public item)."""
    return _call(public.publish_summary, context(request).store, item_id, body.summary,
                 actor=user.username)


@router.post("/layers", status_code=201, summary="公开图层（批准文号、日期）")
def mark_layer(request: Request, body: Mark, user: Manager) -> dict[str, Any]:
    """Make a layer version public (only layers listed in ``public.yaml``)."""
    return _call(public.mark_layer, context(request).store, body.dataset, body.version,
                 approval_no=body.approval_no, approved_on=body.approved_on,
                 actor=user.username)
