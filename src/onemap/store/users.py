"""Users, roles, county scope and API tokens (SQLAlchemy Core).

- ``onemap_users``: one row per person or system account, with an argon2id
  password hash, a role (:data:`ROLES`) and an optional county scope (a
  six-digit county code such as ``640324`` 同心县; empty means the whole
  city).
- ``onemap_tokens``: bearer tokens. A *session* token is issued by a login
  and expires after ``tokens.session_hours``; an *api* token is created for
  another system, carries scopes (:data:`SCOPES`: ``read``, ``case``,
  ``admin``) and expires after at most ``tokens.api_max_days`` days (the
  policy in ``domain/data/security.yaml``). An API token can never change a
  password or create tokens (that needs a login), and a password change
  revokes every token of the user. Only the SHA-256 of a token is stored; the
  token itself is shown once.

Every change made here appends to the audit log (:mod:`onemap.store.audit`)
in the same transaction. Portable SQL only: the same tables serve the
GeoPackage file and PostGIS.

The functions take the store's SQLAlchemy engine (``store.sql_engine()``), so
the CLI and the API share them::

    engine = store.sql_engine()
    create_user(engine, "zhang", "s3cret-pass", role="enforcer", county="640324")
    token = create_token(engine, "zhang", name="案件系统")
"""

from __future__ import annotations

import hashlib
import re
import secrets
import weakref
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from onemap.domain.security import security_policy
from onemap.errors import InputError, OneMapError, WorkspaceError
from onemap.store import audit
from onemap.store.catalog import now_iso, workspace_table

metadata = MetaData()

#: Roles, strongest first, with their Chinese names.
ROLES: dict[str, str] = {
    "admin": "管理员",
    "editor": "编辑",
    "enforcer": "执法",
    "viewer": "只读",
}

#: Scopes of an API token and the permissions each grants (within the user's role):
#: ``read`` 只读 (layers, statistics, compliance checks); ``case`` 办理案件 (read and act on
#: cases); ``admin`` 管理 (everything the role allows except passwords and tokens).
SCOPES: dict[str, frozenset[str]] = {
    "read": frozenset({"read", "analyse"}),
    "case": frozenset({"read", "analyse", "case"}),
    "admin": frozenset({"read", "analyse", "edit", "case", "manage"}),
}
SCOPE_NAMES = {"read": "只读", "case": "办理案件", "admin": "管理"}

#: Scopes of an API token created without naming any.
DEFAULT_SCOPES = ("read",)


def session_hours() -> int:
    """Hours a login (session) token stays valid (``tokens.session_hours`` of the policy)."""
    return security_policy().tokens.session_hours

#: Minimum password length.
MIN_PASSWORD = 8

_USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
_COUNTY_RE = re.compile(r"^\d{6}$")

users_table = Table(
    "onemap_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False, default=""),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("county", Text, nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", Text, nullable=False),
)

tokens_table = Table(
    "onemap_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("onemap_users.id"), nullable=False),
    Column("token_sha256", Text, nullable=False, unique=True),
    Column("kind", Text, nullable=False),  # "session" | "api"
    Column("name", Text, nullable=False, default=""),
    Column("created_at", Text, nullable=False),
    Column("expires_at", Text, nullable=True),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("scopes", Text, nullable=False, default=""),  # comma-separated; "" for sessions
)

_HASHER = PasswordHasher()
_READY: weakref.WeakSet = weakref.WeakSet()


class AuthError(OneMapError):
    """Not logged in, or wrong name/password/token (HTTP 401)."""

    exit_code = 6


class UnknownUser(WorkspaceError):
    """No user of that name (HTTP 404)."""


class UserExists(InputError):
    """A user of that name exists already (HTTP 409)."""


class PermissionDenied(OneMapError):
    """Logged in, but the role or county scope does not allow it (HTTP 403)."""

    exit_code = 7


@dataclass(frozen=True)
class User:
    """A user as the rest of OneMap sees it (never the password hash).

    Attributes
    ----------
    id : int
        Row id (0 for the anonymous reader).
    username, display_name : str
        Login name and the name shown.
    role : str
        One of :data:`ROLES`.
    county : str
        Six-digit county code the user is limited to, or "" (whole city).
    token_kind : str
        How the request authenticated: ``"session"`` (a login), ``"api"``
        (an API token) or ``""`` (the anonymous reader, or local use).
    scopes : tuple of str
        Scopes of an API token (empty otherwise); they narrow the role.
    """

    id: int
    username: str
    display_name: str
    role: str
    county: str = ""
    token_kind: str = ""
    scopes: tuple[str, ...] = ()

    @property
    def anonymous(self) -> bool:
        """Whether this is the anonymous reader (no login)."""
        return self.id == 0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict with the Chinese role name."""
        d = asdict(self)
        d["role_name"] = ROLES.get(self.role, self.role)
        d["county"] = self.county or None
        d["scopes"] = list(self.scopes)
        return d

    def permissions(self) -> frozenset[str]:
        """What this principal may do: the role's permissions, narrowed by token scopes."""
        if self.anonymous:
            return frozenset({"read"})
        allowed = PERMISSIONS.get(self.role, frozenset())
        if self.token_kind == "api":
            granted = frozenset().union(*(SCOPES.get(s, frozenset()) for s in self.scopes))
            allowed = allowed & granted
        return allowed


#: The principal of requests without a login, where anonymous reading is allowed.
ANONYMOUS = User(id=0, username="anonymous", display_name="匿名访问", role="viewer", county="")


def ensure_tables(engine: Engine) -> None:
    """Create the user and token tables if missing, and add columns of newer versions (idempotent).

    A workspace made before token scopes gets the ``scopes`` column; its old
    API tokens then carry no scope and are refused until replaced.
    """
    if engine in _READY:
        return
    metadata.create_all(engine, checkfirst=True)
    with engine.begin() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("onemap_tokens")}
        if "scopes" not in columns:
            conn.exec_driver_sql(
                "ALTER TABLE onemap_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT ''")
    _READY.add(engine)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_role(role: str) -> str:
    if role not in ROLES:
        names = "、".join(f"{k}（{v}）" for k, v in ROLES.items())
        raise InputError(f"未知角色：{role}（可选：{names}）")
    return role


def _check_county(county: str | None) -> str:
    county = (county or "").strip()
    if county and not _COUNTY_RE.match(county):
        raise InputError(f"县级行政区代码应为 6 位数字，如 640324（同心县）：{county}")
    return county


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InputError(f"密码至少 {MIN_PASSWORD} 个字符")


def _user_from_row(row) -> User:
    return User(
        id=int(row.id),
        username=row.username,
        display_name=row.display_name or row.username,
        role=row.role,
        county=row.county or "",
    )


def _row_by_name(conn: Connection, username: str):
    return conn.execute(select(users_table).where(users_table.c.username == username)).first()


def _public(row) -> dict[str, Any]:
    return {
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
        "county": row.county,
        "active": bool(row.active),
    }


def create_user(
    engine: Engine,
    username: str,
    password: str,
    *,
    role: str = "viewer",
    county: str | None = None,
    display_name: str = "",
    actor: str = "cli",
) -> User:
    """Create a user with an argon2id password hash.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The workspace's engine (``store.sql_engine()``).
    username : str
        Login name: 2–64 letters, digits or ``_.@-``.
    password : str
        Clear-text password (at least :data:`MIN_PASSWORD` characters); only
        its hash is stored.
    role : {"admin", "editor", "enforcer", "viewer"}
        管理员, 编辑, 执法, 只读.
    county : str, optional
        Six-digit county code limiting the user's cases (e.g. ``"640324"``).
    display_name : str
        Name shown in the UI and reports (defaults to ``username``).
    actor : str
        Who creates the user (for the audit log).

    Returns
    -------
    User

    Raises
    ------
    onemap.errors.InputError
        Invalid name, role, county or password, or the name is taken.
    """
    if not _USERNAME_RE.match(username or ""):
        raise InputError(f"用户名不合规：{username!r}（2–64 位字母、数字或 _.@-）")
    _check_role(role)
    county = _check_county(county)
    _check_password(password)
    ensure_tables(engine)
    with engine.begin() as conn:
        if _row_by_name(conn, username) is not None:
            raise UserExists(f"用户已存在：{username}")
        res = conn.execute(
            insert(users_table).values(
                username=username,
                display_name=display_name or username,
                password_hash=_HASHER.hash(password),
                role=role,
                county=county,
                active=True,
                created_at=now_iso(),
            )
        )
        row = conn.execute(
            select(users_table).where(users_table.c.id == res.inserted_primary_key[0])
        ).one()
        audit.append(conn, actor, "user.create", "user", username, None, _public(row))
    return _user_from_row(row)


def set_password(engine: Engine, username: str, password: str, *, actor: str = "cli") -> int:
    """Replace a user's password and revoke every token of the user (sessions and API tokens).

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The workspace's engine.
    username, password : str
        Whose password and the new clear-text password.
    actor : str
        Who changes it (for the audit log; the hash is never logged).

    Returns
    -------
    int
        Number of tokens revoked.

    Raises
    ------
    onemap.errors.InputError
        Unknown user or too short a password.
    """
    _check_password(password)
    ensure_tables(engine)
    with engine.begin() as conn:
        row = _row_by_name(conn, username)
        if row is None:
            raise UnknownUser(f"没有用户 {username}")
        conn.execute(
            update(users_table)
            .where(users_table.c.id == row.id)
            .values(password_hash=_HASHER.hash(password))
        )
        revoked = conn.execute(
            update(tokens_table)
            .where(tokens_table.c.user_id == row.id, tokens_table.c.revoked.is_(False))
            .values(revoked=True)
        ).rowcount
        audit.append(conn, actor, "user.set_password", "user", username, None,
                     {"tokens_revoked": int(revoked)})
    return int(revoked)


def update_user(
    engine: Engine,
    username: str,
    *,
    role: str | None = None,
    county: str | None = None,
    display_name: str | None = None,
    active: bool | None = None,
    actor: str = "cli",
) -> User:
    """Change a user's role, county scope, display name or active flag.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The workspace's engine.
    username : str
        Whose record.
    role, county, display_name, active : optional
        New values; None leaves a field unchanged (county ``""`` clears the scope).
    actor : str
        Who changes it (for the audit log).

    Returns
    -------
    User
    """
    ensure_tables(engine)
    values: dict[str, Any] = {}
    if role is not None:
        values["role"] = _check_role(role)
    if county is not None:
        values["county"] = _check_county(county)
    if display_name is not None:
        values["display_name"] = display_name
    if active is not None:
        values["active"] = bool(active)
    with engine.begin() as conn:
        row = _row_by_name(conn, username)
        if row is None:
            raise UnknownUser(f"没有用户 {username}")
        if values:
            conn.execute(update(users_table).where(users_table.c.id == row.id).values(**values))
        new = conn.execute(select(users_table).where(users_table.c.id == row.id)).one()
        if active is False:
            conn.execute(
                update(tokens_table).where(tokens_table.c.user_id == row.id).values(revoked=True)
            )
        audit.append(conn, actor, "user.update", "user", username, _public(row), _public(new))
    return _user_from_row(new)


def list_users(engine: Engine) -> list[dict[str, Any]]:
    """Every user (without password hashes), by name."""
    ensure_tables(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(users_table).order_by(users_table.c.username)).all()
    return [{**_user_from_row(r).to_dict(), "active": bool(r.active)} for r in rows]


def user_count(engine: Engine) -> int:
    """Number of users (active or not)."""
    ensure_tables(engine)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(users_table)).scalar() or 0)


def authenticate(engine: Engine, username: str, password: str) -> User:
    """Check a name and password.

    Returns
    -------
    User

    Raises
    ------
    AuthError
        Unknown user, inactive user or wrong password (one message for all,
        so the answer does not tell which names exist).
    """
    ensure_tables(engine)
    with engine.connect() as conn:
        row = _row_by_name(conn, username or "")
    if row is None or not row.active:
        _HASHER.hash("timing-equaliser")
        raise AuthError("用户名或密码错误")
    try:
        _HASHER.verify(row.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError) as exc:
        raise AuthError("用户名或密码错误") from exc
    if _HASHER.check_needs_rehash(row.password_hash):
        with engine.begin() as conn:
            conn.execute(
                update(users_table)
                .where(users_table.c.id == row.id)
                .values(password_hash=_HASHER.hash(password))
            )
    return _user_from_row(row)


def _issue(conn: Connection, user_id: int, kind: str, name: str, expires_at: str | None,
           scopes: tuple[str, ...] = ()) -> str:
    token = "om_" + secrets.token_urlsafe(32)
    conn.execute(
        insert(tokens_table).values(
            user_id=user_id,
            token_sha256=_sha256(token),
            kind=kind,
            name=name,
            created_at=now_iso(),
            expires_at=expires_at,
            revoked=False,
            scopes=",".join(scopes),
        )
    )
    return token


def login(engine: Engine, username: str, password: str) -> tuple[str, User]:
    """Authenticate and issue a session token valid for :func:`session_hours` hours.

    Returns
    -------
    token : str
        Bearer token for ``Authorization: Bearer …``.
    user : User
    """
    user = authenticate(engine, username, password)
    expires = (datetime.now(UTC) + timedelta(hours=session_hours())).replace(microsecond=0)
    with engine.begin() as conn:
        token = _issue(conn, user.id, "session", "login", expires.isoformat())
        audit.append(conn, user.username, "user.login", "user", user.username, None, None)
    return token, user


def create_token(
    engine: Engine,
    username: str,
    *,
    name: str = "",
    days: int | None = None,
    scopes: tuple[str, ...] | list[str] | None = None,
    actor: str = "cli",
) -> str:
    """Create an API token for another system acting as ``username``, with scopes.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The workspace's engine.
    username : str
        The account the token acts as (its role and county apply).
    name : str
        What the token is for, e.g. ``"审批系统"``.
    days : int, optional
        Lifetime in days, at most ``tokens.api_max_days`` of the policy
        (default ``tokens.api_default_days``).
    scopes : sequence of {"read", "case", "admin"}, optional
        What the token may do within the user's role (default ``("read",)``).
    actor : str
        Who creates it (for the audit log).

    Returns
    -------
    str
        The token; it is shown only now (only its hash is stored).
    """
    ensure_tables(engine)
    policy = security_policy().tokens
    days = policy.api_default_days if days is None else int(days)
    if days <= 0:
        raise InputError("令牌有效期（天）必须为正数")
    if days > policy.api_max_days:
        raise InputError(f"令牌有效期不得超过 {policy.api_max_days} 天（安全策略 tokens.api_max_days）")
    scopes = _check_scopes(DEFAULT_SCOPES if scopes is None else scopes)
    expires = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()
    with engine.begin() as conn:
        row = _row_by_name(conn, username)
        if row is None:
            raise UnknownUser(f"没有用户 {username}")
        if not row.active:
            raise InputError(f"用户 {username} 已停用")
        token = _issue(conn, int(row.id), "api", name, expires, scopes)
        audit.append(conn, actor, "token.create", "user", username, None,
                     {"name": name, "expires_at": expires, "scopes": list(scopes)})
    return token


def _check_scopes(scopes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    clean = tuple(dict.fromkeys(str(s).strip() for s in scopes if str(s).strip()))
    bad = [s for s in clean if s not in SCOPES]
    if bad or not clean:
        names = "、".join(f"{k}（{v}）" for k, v in SCOPE_NAMES.items())
        raise InputError(f"未知的令牌权限范围：{'、'.join(bad) or '（空）'}（可选：{names}）")
    return clean


def revoke_token(engine: Engine, token: str, *, actor: str = "cli") -> bool:
    """Revoke a token (session or API); return whether it existed."""
    ensure_tables(engine)
    with engine.begin() as conn:
        row = conn.execute(
            select(tokens_table).where(tokens_table.c.token_sha256 == _sha256(token))
        ).first()
        if row is None:
            return False
        conn.execute(update(tokens_table).where(tokens_table.c.id == row.id).values(revoked=True))
        audit.append(conn, actor, "token.revoke", "token", row.id, None, {"kind": row.kind})
    return True


def user_for_token(engine: Engine, token: str) -> User:
    """Resolve a bearer token to its user.

    Raises
    ------
    AuthError
        Unknown, revoked or expired token, or an inactive user.
    """
    ensure_tables(engine)
    with engine.connect() as conn:
        row = conn.execute(
            select(tokens_table, users_table.c.username, users_table.c.display_name,
                   users_table.c.role, users_table.c.county, users_table.c.active)
            .join(users_table, users_table.c.id == tokens_table.c.user_id)
            .where(tokens_table.c.token_sha256 == _sha256(token or ""))
        ).first()
    if row is None or row.revoked or not row.active:
        raise AuthError("登录已失效或令牌无效，请重新登录")
    if row.expires_at and row.expires_at < now_iso():
        raise AuthError("登录已过期，请重新登录")
    return User(
        id=int(row.user_id),
        username=row.username,
        display_name=row.display_name or row.username,
        role=row.role,
        county=row.county or "",
        token_kind=row.kind,
        scopes=tuple(s for s in (row.scopes or "").split(",") if s),
    )


def anonymous_read(engine: Engine) -> bool:
    """Whether requests without a login may read (the workspace policy).

    The workspace setting ``anonymous_read`` (``"true"``/``"false"``) decides.
    When it is not set, anonymous reading is allowed only while the workspace
    has no users at all (a fresh or sample workspace, where there is nobody to
    log in as); as soon as a user exists, reading needs a login too. Writing
    always needs a login.
    """
    with engine.connect() as conn:
        row = conn.execute(
            select(workspace_table.c.value).where(workspace_table.c.key == "anonymous_read")
        ).first()
    if row is not None:
        return str(row.value).strip().lower() in {"1", "true", "yes", "是"}
    return user_count(engine) == 0


def set_anonymous_read(engine: Engine, allowed: bool, *, actor: str = "cli") -> None:
    """Set the workspace setting ``anonymous_read`` (audited)."""
    value = "true" if allowed else "false"
    with engine.begin() as conn:
        row = conn.execute(
            select(workspace_table.c.value).where(workspace_table.c.key == "anonymous_read")
        ).first()
        if row is None:
            conn.execute(insert(workspace_table).values(key="anonymous_read", value=value))
        else:
            conn.execute(
                update(workspace_table)
                .where(workspace_table.c.key == "anonymous_read")
                .values(value=value)
            )
        audit.append(conn, actor, "workspace.setting", "workspace", "anonymous_read",
                     None if row is None else row.value, value)


# ---------------------------------------------------------------------------- policy

#: What each role may do. ``read``: layers, statistics, cases in scope; ``analyse``: run
#: compliance checks (no data changes); ``edit``: data and rules; ``case``: work cases;
#: ``manage``: users and workspace settings.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "analyse", "edit", "case", "manage"}),
    "editor": frozenset({"read", "analyse", "edit", "case"}),
    "enforcer": frozenset({"read", "analyse", "case"}),
    "viewer": frozenset({"read", "analyse"}),
}

_ACTION_NAMES = {
    "read": "查看",
    "analyse": "提交合规审查",
    "edit": "修改数据",
    "case": "办理案件",
    "manage": "管理用户",
}


def authorize(user: User, permission: str, *, county: str | None = None) -> None:
    """Refuse unless ``user`` may do ``permission`` (in ``county`` when given).

    Parameters
    ----------
    user : User
        Who asks.
    permission : {"read", "analyse", "edit", "case", "manage"}
        What they want to do.
    county : str, optional
        County code of the record concerned; a county-scoped user may only
        touch records of the county (or of towns/villages inside it, i.e.
        codes starting with the county code).

    Raises
    ------
    AuthError
        Anonymous user asking for anything but ``read``.
    PermissionDenied
        Role or county scope does not allow it.
    """
    if user.anonymous and permission != "read":
        raise AuthError("此操作需要登录")
    if permission not in PERMISSIONS.get(user.role, frozenset()):
        raise PermissionDenied(
            f"权限不足：{ROLES.get(user.role, user.role)}角色不能{_ACTION_NAMES.get(permission, permission)}"
        )
    if permission not in user.permissions():
        scopes = "、".join(SCOPE_NAMES.get(s, s) for s in user.scopes) or "无"
        raise PermissionDenied(
            f"权限不足：接口令牌的权限范围（{scopes}）不能{_ACTION_NAMES.get(permission, permission)}"
        )
    if county is not None and not in_scope(user, county):
        raise PermissionDenied(
            f"权限不足：您只能访问县级行政区 {user.county} 的记录（该记录属于 {county or '未知区县'}）"
        )


def require_login_session(user: User, what: str) -> None:
    """Refuse unless the request comes from a login (not an API token, not anonymous).

    Changing a password and creating tokens need the person, not a system:
    an API token, whatever its scopes, can do neither.

    Raises
    ------
    AuthError
        Anonymous request.
    PermissionDenied
        The request used an API token.
    """
    if user.anonymous:
        raise AuthError("此操作需要登录")
    if user.token_kind == "api":
        raise PermissionDenied(f"接口令牌不能{what}，请登录后操作")


def in_scope(user: User, code: str | None) -> bool:
    """Whether a record with administrative ``code`` lies in the user's county scope."""
    if not user.county:
        return True
    return bool(code) and str(code).startswith(user.county)
