"""A throw-away PostgreSQL + PostGIS cluster on loopback (tests, benchmarks, trials).

Debian's ``postgresql`` and ``postgresql-*-postgis-3`` packages provide the
server (``scripts/install.sh`` installs them). :func:`postgres_cluster` runs
``initdb`` in a temporary folder, starts the server on a free port of
127.0.0.1 only (trust authentication, nothing listens outside the machine),
yields a :class:`Cluster` and stops and removes it at the end. As root the
server runs as the ``postgres`` system user (PostgreSQL refuses root).

The cluster is made with the ``C`` locale so text sorts by code point, as in
the GeoPackage backend (SQLite compares text byte by byte).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from onemap.errors import WorkspaceError

#: Server settings of a small test cluster (name → value, passed as ``-c name=value``).
SMALL_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "jit": "off",
    "max_connections": "50",
}


def server_bindir() -> Path | None:
    """The newest installed PostgreSQL server's bin folder (``/usr/lib/postgresql/N/bin``), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def has_postgis(bindir: Path) -> bool:
    """Whether the PostGIS extension is installed for the server in ``bindir``."""
    version = bindir.parts[-2]
    return bool(glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"))


def ensure_postgis(*, install: bool = False) -> Path:
    """Return the server bin folder; with ``install``, install the Debian packages when missing.

    Raises
    ------
    onemap.errors.WorkspaceError
        The server or PostGIS is missing and ``install`` is False.
    """
    bindir = server_bindir()
    if bindir is not None and has_postgis(bindir):
        return bindir
    if not install:
        raise WorkspaceError("本机未安装 PostgreSQL 服务器或 PostGIS 扩展：请运行 scripts/install.sh"
                             "（安装 postgresql 与 postgresql-15-postgis-3）")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    if bindir is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env)
        bindir = server_bindir()
        if bindir is None:
            raise WorkspaceError("已安装 postgresql，但找不到 pg_ctl")
    version = bindir.parts[-2]
    subprocess.run(["apt-get", "install", "-y", "-qq", f"postgresql-{version}-postgis-3"],
                   check=True, env=env)
    return bindir


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A running throw-away cluster.

    Attributes
    ----------
    bindir : Path
        Server programs (``psql``, ``createdb`` …).
    folder : Path
        Temporary folder holding the data directory, the socket and the log.
    port : int
        Port on 127.0.0.1.
    user : str
        Superuser name (trust authentication on loopback).
    """

    bindir: Path
    folder: Path
    port: int
    user: str = "postgres"

    def url(self, database: str = "postgres") -> str:
        """``postgresql://USER@127.0.0.1:PORT/DB`` of one database of the cluster."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _base(self, database: str) -> list[str]:
        return [str(self.bindir / "psql"), "-X", "-q", "-h", "127.0.0.1", "-p", str(self.port),
                "-U", self.user, "-v", "ON_ERROR_STOP=1", "-d", database]

    def psql(self, sql: str, *, database: str = "postgres", stdin=None,
             capture: bool = True) -> str:
        """Run SQL with ``psql -At``; return its output (unaligned, tuples only)."""
        res = subprocess.run(self._base(database) + ["-At", "-c", sql], input=stdin, check=True,
                             capture_output=capture,
                             text=stdin is None or isinstance(stdin, str))
        return res.stdout if capture and isinstance(res.stdout, str) else ""

    def copy_in(self, table: str, lines, *, database: str = "postgres") -> None:
        """``COPY table FROM STDIN`` fed with blocks of text lines."""
        proc = subprocess.Popen(self._base(database) + ["-c", f"COPY {table} FROM STDIN"],
                                stdin=subprocess.PIPE, text=True)
        assert proc.stdin is not None
        for block in lines:
            proc.stdin.write(block)
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"COPY {table} failed")

    def spawn(self, sql: str, *, database: str = "postgres") -> subprocess.Popen:
        """Start ``psql -At -c sql`` without waiting (its stdout is a pipe)."""
        return subprocess.Popen(self._base(database) + ["-At", "-c", sql],
                                stdout=subprocess.PIPE, text=True)

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def postgres_cluster(settings: dict[str, str] | None = None, *,
                     install: bool = False) -> Iterator[Cluster]:
    """Run a throw-away cluster on loopback for the duration of the ``with`` block.

    Parameters
    ----------
    settings : dict, optional
        Server settings (``-c name=value``); :data:`SMALL_SETTINGS` when None.
    install : bool
        Install the Debian packages when missing (benchmarks); otherwise a
        missing server is a :class:`~onemap.errors.WorkspaceError`.
    """
    bindir = ensure_postgis(install=install)
    folder = Path(tempfile.mkdtemp(prefix="onemap-pg-"))
    data = folder / "data"
    port = free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    opts = " ".join(f"-c {k}={v}" for k, v in (SMALL_SETTINGS if settings is None
                                               else settings).items())
    try:
        subprocess.run(as_user + [str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                                  "-U", "postgres", "-E", "UTF8", "--locale=C"],
                       check=True, capture_output=True)
        subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-o",
                                  f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} {opts}",
                                  "-l", str(folder / "log"), "-w", "start"],
                       check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        log = (folder / "log").read_text("utf-8", "replace") if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise WorkspaceError(f"无法启动临时 PostgreSQL：{exc.stderr or ''!s} {log[-2000:]}") from exc
    try:
        yield Cluster(bindir=bindir, folder=folder, port=port)
    finally:
        subprocess.run(as_user + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
