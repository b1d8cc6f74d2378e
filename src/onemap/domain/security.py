"""The server's security policy as data (``domain/data/security.yaml``).

Login throttling, token lifetimes, request and upload limits and the list of
sensitive (county-scoped) layers. Like every domain file it can be replaced by
a copy in ``ONEMAP_DOMAIN_DIR``; a malformed file raises
:class:`onemap.errors.DomainDataError` naming the file and the key.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onemap.domain import _files

FILE = "security.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginPolicy(_Strict):
    """Login throttling (failures before a lock, lock length doubling up to a maximum)."""

    account_failures: int = Field(5, ge=1)
    address_failures: int = Field(20, ge=1)
    lock_seconds: int = Field(60, ge=1)
    max_lock_seconds: int = Field(3600, ge=1)
    forget_after_seconds: int = Field(86400, ge=1)


class TokenPolicy(_Strict):
    """Lifetimes: login tokens in hours, API tokens in days (default and maximum)."""

    session_hours: int = Field(12, ge=1, le=24 * 30)
    api_default_days: int = Field(90, ge=1)
    api_max_days: int = Field(365, ge=1)


class Limits(_Strict):
    """Request and upload limits (bytes, nesting depth, counts, hectares)."""

    body_bytes: int = Field(60 * 2**20, ge=1024)
    json_depth: int = Field(64, ge=2, le=500)
    json_bytes: int = Field(10 * 2**20, ge=1024)
    site_upload_bytes: int = Field(50 * 2**20, ge=1024)
    photo_bytes: int = Field(30 * 2**20, ge=1024)
    photos_per_action: int = Field(30, ge=1)
    site_vertices: int = Field(200_000, ge=4)
    site_area_ha: float = Field(100_000, gt=0)


class AuditPolicy(_Strict):
    """How often a running server appends an audit checkpoint (seconds)."""

    checkpoint_seconds: int = Field(600, ge=1)


class Concurrency(_Strict):
    """Many users at once: write lock wait, server memory and heavy-request limits.

    ``write_lock_seconds``: how long a write waits for another writer of the
    same workspace; ``busy_seconds``: how long one SQLite statement waits for a
    lock; ``version_cache`` / ``version_cache_mb``: how many layer versions the
    server keeps in memory and their total size; ``result_cache``: how many
    results of heavy endpoints (stats, assess, tabulate, reports) it keeps, per
    catalog state; ``heavy_parallel`` / ``heavy_wait_seconds``: how many heavy
    requests run at once and how long one waits for a slot before a 503 with
    ``Retry-After``.
    """

    write_lock_seconds: float = Field(300, gt=0)
    busy_seconds: float = Field(60, gt=0)
    version_cache: int = Field(8, ge=1)
    version_cache_mb: int = Field(2048, ge=16)
    result_cache: int = Field(64, ge=1)
    heavy_parallel: int = Field(2, ge=1)
    heavy_wait_seconds: float = Field(20, ge=0)


class SensitiveLayer(_Strict):
    """A dataset whose rows a county-scoped user sees only for the own county."""

    dataset: str = Field(min_length=1)
    title: str = ""
    county_field: str = Field(min_length=1)


class ScopePolicy(_Strict):
    """Which datasets are sensitive (every other one is public)."""

    sensitive: tuple[SensitiveLayer, ...] = ()

    def layer(self, dataset: str) -> SensitiveLayer | None:
        """The sensitive-layer entry of ``dataset`` (None: public)."""
        for item in self.sensitive:
            if item.dataset == dataset:
                return item
        return None


class SecurityPolicy(_Strict):
    """The whole ``security.yaml``."""

    version: str
    login: LoginPolicy = LoginPolicy()
    tokens: TokenPolicy = TokenPolicy()
    limits: Limits = Limits()
    audit: AuditPolicy = AuditPolicy()
    concurrency: Concurrency = Concurrency()
    scope: ScopePolicy = ScopePolicy()


@lru_cache(maxsize=4)
def _load(key: _files.SourceKey) -> SecurityPolicy:
    path = _files.resolve(FILE)
    doc = _files.read_yaml(path)
    try:
        policy = SecurityPolicy.model_validate({**doc, "version": str(doc["version"])})
    except ValidationError as exc:
        raise _files.validation_failure(path, "", exc) from exc
    if policy.tokens.api_default_days > policy.tokens.api_max_days:
        raise _files.fail(path, "tokens", "api_default_days 不得大于 api_max_days")
    if policy.login.lock_seconds > policy.login.max_lock_seconds:
        raise _files.fail(path, "login", "lock_seconds 不得大于 max_lock_seconds")
    return policy


def security_policy() -> SecurityPolicy:
    """The security policy in force (shipped file or its override; cached by mtime).

    Raises
    ------
    onemap.errors.DomainDataError
        The file is malformed (the message names the key).
    """
    return _load(_files.source_key(FILE))
