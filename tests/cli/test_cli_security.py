"""Command line: scoped API tokens and audit checkpoints (issue #19)."""

import json

from typer.testing import CliRunner

from onemap.cli import app
from onemap.store import init_workspace
from onemap.store.integrity import checkpoint_file
from onemap.store.users import create_user, user_for_token

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_token_scopes_and_lifetime_from_the_command_line(tmp_path):
    ws = tmp_path / "ws.gpkg"
    store = init_workspace(ws)
    create_user(store.sql_engine(), "tx_officer", "同心-2024-secret", role="enforcer")
    r = run("user", "token", ws, "tx_officer", "--scope", "case", "--scope", "read", "--json")
    assert r.exit_code == 0, r.output
    token = json.loads(r.stdout)["token"]
    assert user_for_token(store.sql_engine(), token).scopes == ("case", "read")
    r = run("user", "token", ws, "tx_officer", "--days", "400", "--json")
    assert r.exit_code != 0 and "不得超过 365 天" in r.stdout


def test_audit_checkpoint_and_verify_from_the_command_line(tmp_path):
    ws = tmp_path / "ws.gpkg"
    store = init_workspace(ws)
    create_user(store.sql_engine(), "admin", "correct-horse-9", role="admin")
    r = run("audit", "checkpoint", ws, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["last_checkpoint"]["seq"] == 1
    line = json.loads(checkpoint_file(ws).read_text().splitlines()[-1])
    assert line["seq"] == 1
    r = run("audit", "verify", ws)
    assert r.exit_code == 0 and "最近检查点：第 1 行" in r.stdout
