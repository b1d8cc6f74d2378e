"""Sharing commands: the web server, users and API tokens."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from onemap.cli.common import JsonOpt, WsArg, _emit_json, _fail, app, open_store, out
from onemap.cli.monitor import ActorOpt, _actor
from onemap.errors import InputError, OneMapError

user_app = typer.Typer(help="用户、角色（admin 管理员 / editor 编辑 / enforcer 执法 / viewer 只读）与接口令牌。",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")


@app.command()
def serve(
    ws: WsArg,
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    anonymous_read: Annotated[bool | None, typer.Option("--anonymous-read/--login-required",
                                                        help="是否允许未登录浏览（默认按工作空间设置）")] = None,
    as_json: JsonOpt = False,
) -> None:
    """启动一张图网页服务：地图、REST API、OGC API – Features、矢量瓦片。"""
    from onemap.api.app import serve as run

    try:
        open_store(ws).close()
    except OneMapError as exc:
        _fail(exc, as_json)
    url = f"http://{host}:{port}"
    if as_json:
        _emit_json({"url": f"{url}/", "ogc": f"{url}/ogc", "api_docs": f"{url}/api/docs"})
    else:
        out.print(f"一张图服务：{url}/ （OGC API：/ogc，接口文档：/api/docs），按 Ctrl+C 停止")
    run(ws, host=host, port=port, anonymous_read=anonymous_read)


def _password(password: str | None) -> str:
    if password:
        return password
    first = getpass.getpass("密码：")
    if first != getpass.getpass("再次输入密码："):
        raise InputError("两次输入的密码不一致")
    return first


@user_app.command("add")
def user_add(
    ws: WsArg,
    username: Annotated[str, typer.Argument(help="用户名")],
    role: Annotated[str, typer.Option(help="角色：admin / editor / enforcer / viewer")] = "viewer",
    county: Annotated[str | None, typer.Option(help="县级代码（只能查看和办理本县案件），空为全市")] = None,
    display_name: Annotated[str, typer.Option(help="姓名")] = "",
    password: Annotated[str | None, typer.Option(help="密码（不给则交互输入）")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """新建用户（密码以 argon2 散列保存）。"""
    from onemap.store.users import create_user

    try:
        store = open_store(ws)
        user = create_user(store.sql_engine(), username, _password(password), role=role, county=county,
                           display_name=display_name, actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"username": user.username, "role": user.role, "county": user.county})
    else:
        out.print(f"已创建用户 {user.username}（{user.role}，{user.county or '全市'}）")


@user_app.command("list")
def user_list(ws: WsArg, as_json: JsonOpt = False) -> None:
    """列出用户。"""
    from onemap.store.users import list_users

    try:
        users = list_users(open_store(ws).sql_engine())
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json(users)
        return
    table = Table(title="用户")
    for col in ("用户名", "姓名", "角色", "县", "状态"):
        table.add_column(col)
    for u in users:
        table.add_row(str(u.get("username")), str(u.get("display_name", "")), str(u.get("role")),
                      str(u.get("county") or "全市"), "正常" if u.get("active", True) else "停用")
    out.print(table)


@user_app.command("passwd")
def user_passwd(
    ws: WsArg,
    username: Annotated[str, typer.Argument(help="用户名")],
    password: Annotated[str | None, typer.Option(help="新密码（不给则交互输入）")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """修改用户密码。"""
    from onemap.store.users import set_password

    try:
        set_password(open_store(ws).sql_engine(), username, _password(password), actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"username": username, "password_changed": True})
    else:
        out.print(f"已修改 {username} 的密码")


@user_app.command("token")
def user_token(
    ws: WsArg,
    username: Annotated[str, typer.Argument(help="令牌代表的用户（其角色和县级范围适用）")],
    name: Annotated[str, typer.Option(help="令牌名称，如 对接系统名")] = "",
    days: Annotated[int | None, typer.Option(help="有效天数（默认与上限见 security.yaml 的 tokens）")] = None,
    scope: Annotated[list[str] | None, typer.Option(
        help="权限范围，可重复：read 只读（默认）、case 办理案件、admin 管理")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """为其他业务系统生成接口令牌（只显示一次，请妥善保存；接口令牌不能改密码、不能再生成令牌）。"""
    from onemap.store.users import create_token

    try:
        token = create_token(open_store(ws).sql_engine(), username, name=name, days=days,
                             scopes=scope or None, actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"token": token, "username": username, "scopes": scope or ["read"]})
    else:
        out.print(f"接口令牌（请求头 Authorization: Bearer …）：{token}")


@user_app.command("anonymous")
def user_anonymous(
    ws: WsArg,
    allow: Annotated[bool, typer.Argument(help="true 允许未登录浏览，false 必须登录")],
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """设置是否允许未登录浏览（写操作始终需要登录）。"""
    from onemap.store.users import set_anonymous_read

    try:
        set_anonymous_read(open_store(ws).sql_engine(), allow, actor=_actor(actor))
    except OneMapError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit_json({"anonymous_read": allow})
    else:
        out.print("已允许未登录浏览" if allow else "已设置为必须登录")


