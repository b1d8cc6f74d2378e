import json

from typer.testing import CliRunner

from onemap.cli import app
from onemap.store import init_workspace
from onemap.store.users import authenticate, user_for_token

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_user_management_from_the_command_line(tmp_path):
    ws = tmp_path / "ws.gpkg"
    store = init_workspace(ws)
    r = run("user", "add", ws, "tx_officer", "--role", "enforcer", "--county", "640324",
            "--password", "同心-2024-secret", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"username": "tx_officer", "role": "enforcer", "county": "640324"}
    user = authenticate(store.sql_engine(), "tx_officer", "同心-2024-secret")
    assert user.county == "640324"
    r = run("user", "token", ws, "tx_officer", "--name", "对接系统", "--json")
    token = json.loads(r.stdout)["token"]
    assert user_for_token(store.sql_engine(), token).username == "tx_officer"
    r = run("user", "add", ws, "bad", "--role", "superuser", "--password", "x" * 12)
    assert r.exit_code != 0
    listed = json.loads(run("user", "list", ws, "--json").stdout)
    assert [u["username"] for u in listed] == ["tx_officer"]
