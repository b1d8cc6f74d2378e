"""The ``onemap`` command line: Chinese for people, ``--json`` for machines.

Each command module is a thin adapter over :mod:`onemap.services` and the engines;
importing them registers their commands on the shared Typer app.
"""

from onemap.cli import (  # noqa: F401  (registers commands)
    assets,
    control,
    copy,
    crs,
    data,
    grid,
    hazards,
    ledger,
    linkage,
    minerals,
    monitor,
    plan,
    public,
    registration,
    restoration,
    supply,
    web,
)
from onemap.cli.common import app


def main() -> None:
    """Entry point of the ``onemap`` script."""
    app()


__all__ = ["app", "main"]
