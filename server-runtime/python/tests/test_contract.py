"""The runtime keeps the contract of its control channel (control_schema.json, the file the supervisor's
TypeScript types are generated from): every message a real server sends, every snapshot (single process and
WORKERS=2), the STATS JSON, and the exit codes, checked field by field against the schema."""

import json
import signal
import urllib.request

from conftest import BASE_CONFIG, TESTS_DIR, free_port, launch
from Server_3_free_threads import cli, contract


def test_ready_and_metrics_messages_follow_the_schema(server_factory):
    server = server_factory(app="apps.hostile")
    assert contract.problems(server.ready, contract.SCHEMA["runtimeMessages"][0]["fields"]) == []
    server.request("GET", "/")
    snap = server.snapshot()
    assert snap["type"] == "metrics"
    assert contract.problems(snap, "snapshot") == []
    assert [t["role"] for t in snap["threads"]][:2] == ["accept", "read"]


def test_a_snapshot_with_a_field_the_schema_lacks_is_caught():
    snap = {"time": 1.0}
    found = contract.problems(snap, "snapshot")
    assert "uptimeSeconds: missing" in found
    assert "nonsense: not in the schema" in contract.problems({**snap, "nonsense": 1}, "snapshot")
    thread = {f["name"]: 0 for f in contract.OBJECTS["thread"]}
    assert "state: 0 is not enum of ['busy', 'waiting', 'stopped', 'dead']" in contract.problems(
        thread, "thread"
    )


def test_workers_snapshots_and_the_stats_json_follow_the_schema(server_factory):
    port = free_port()
    server = server_factory(app="apps.hostile", config=f"WORKERS=2\nSTATS=127.0.0.1:{port}\n")
    assert server.ready["workers"] == 2
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as reply:
        snapshots = json.load(reply)
    for snap in snapshots:
        assert contract.problems(snap, "snapshot") == []


def test_error_messages_and_exit_codes_follow_the_schema(tmp_path):
    config = tmp_path / "broken.config"
    config.write_text(BASE_CONFIG + "APP=apps.no_such_module\n")
    proc, control = launch(TESTS_DIR, tmp_path / "logs", ["--config", str(config), "--port", "0"])
    try:
        code = proc.wait(30)
        lines = control.makefile("rb").read().splitlines()
    finally:
        control.close()
    errors = [json.loads(line) for line in lines if line.strip()]
    assert errors and errors[-1]["type"] == "error"
    assert contract.problems(errors[-1], contract.SCHEMA["runtimeMessages"][1]["fields"]) == []
    assert (
        code == contract.EXIT["appImport"] and contract.EXIT_KIND[code] == errors[-1]["kind"] == "app-import"
    )


def test_exit_codes_are_named_from_the_schema_only():
    """No module keeps its own exit-code constants or returns a bare number: contract.EXIT names them all."""
    import pathlib
    import re

    package = pathlib.Path(contract.__file__).parent
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bEXIT_[A-Z_]+\s*=", text), path.name
        assert not re.search(r"os\._exit\(\d|return [1-5]\b|StartupError\(\d", text), path.name
    assert cli.build_arg_parser().epilog == (
        "Exit codes: 0 clean stop, 1 other, 2 config-invalid, 3 app-import, 4 port-in-use, 5 stage-died."
    )


def test_message_refuses_fields_the_schema_does_not_list():
    import pytest

    assert contract.message("reloaded") == {"type": "reloaded"}
    error = contract.message("error", kind="other", message="x", line=None)
    assert error == {"type": "error", "kind": "other", "message": "x"}  # optional and None: left out
    with pytest.raises(ValueError, match="unknown fields"):
        contract.message("error", kind="other", message="x", colour="red")
    with pytest.raises(ValueError, match="missing"):
        contract.message("error", kind="other")
    assert contract.command_problems({"cmd": "metrics", "intervalMs": 500}) == []
    assert contract.command_problems({"cmd": "metrics"}) == ["intervalMs: missing"]
    assert contract.command_problems({"cmd": "nope"}) == ["unknown command 'nope'"]


def test_sigterm_exit_is_the_clean_code(server_factory):
    server = server_factory(app="apps.hostile")
    server.signal(signal.SIGTERM)
    assert server.wait(15) == contract.EXIT["clean"]


def test_request_log_messages_follow_the_schema(server_factory):
    server = server_factory(app="apps.hostile")
    server.request("GET", "/users/1", headers={"Cookie": "a=b"})
    server.request("GET", "/raise?kind=RuntimeError")
    server.send_command({"cmd": "requests", "intervalMs": 60000})
    log = server.read_message(10, want="requests")
    server.send_command({"cmd": "requests", "intervalMs": 0})
    assert log["recent"] and contract.problems(log, "requestLog") == []
    record = log["recent"][0]
    server.send_command({"cmd": "requestDetail", "thread": record["thread"], "seq": record["seq"]})
    detail = server.read_message(10, want="requestDetail")
    assert contract.problems(detail, "requestDetail") == []
