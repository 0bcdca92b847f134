"""Functions and queued events survive restarts; environments are reaped when idle and die with the server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import psutil
from botocore.config import Config as BotoConfig

from awsemu.testing.plugin import make_client, reset_server
from awsemu.testing.server import ServerProcess

from lambda_helpers import ROLE, python_zip, wait_for, wait_gone

COUNTER = """
import os
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    return {"pid": os.getpid(), "count": COUNT}
"""


def _client(server: ServerProcess) -> Any:
    return make_client(server.endpoint, "lambda", config=BotoConfig(retries={"max_attempts": 1}, read_timeout=120))


def _create(lam: Any, name: str, source: str = COUNTER, **kwargs: Any) -> None:
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(source)}, **kwargs)


def _invoke(lam: Any, name: str, event: Any = None) -> Any:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    assert "FunctionError" not in out
    return json.loads(out["Payload"].read())


def test_restart_kill_and_reset(fresh_server: ServerProcess) -> None:
    """One server through its life: clean stop, kill -9, a lost fork server, reset (each takes the
    environments along)."""
    fresh_server.start()
    lam = _client(fresh_server)
    _create(lam, "keeper", Publish=True, Tags={"t": "1"})
    lam.create_alias(FunctionName="keeper", Name="live", FunctionVersion="1")
    before = lam.get_function(FunctionName="keeper")
    pid = _invoke(lam, "keeper")["pid"]
    assert fresh_server.stop() == 0
    wait_gone(pid)
    shutil.rmtree(fresh_server.data_dir / "state" / "lambda" / "code")  # only the blob store has the zip now
    fresh_server.start()
    lam = _client(fresh_server)
    after = lam.get_function(FunctionName="keeper")
    assert after["Configuration"] == before["Configuration"]
    assert after["Tags"] == {"t": "1"}
    assert lam.get_alias(FunctionName="keeper", Name="live")["FunctionVersion"] == "1"
    first = _invoke(lam, "keeper:live")
    assert first["count"] == 1

    fresh_server.kill()
    wait_gone(first["pid"])
    fresh_server.start()
    lam = _client(fresh_server)
    again = _invoke(lam, "keeper")
    assert again["count"] == 1

    fork_servers = [p for p in psutil.Process(fresh_server.proc.pid).children()
                    if any("fork_server.py" in part for part in p.cmdline())]
    assert len(fork_servers) == 1
    fork_servers[0].kill()  # its environments die with it; the next cold start starts a new one
    wait_gone(again["pid"])
    after_loss = _invoke(lam, "keeper")
    assert after_loss["count"] == 1 and after_loss["pid"] != again["pid"]

    reset_server(fresh_server.endpoint, "lambda")
    wait_gone(after_loss["pid"])
    assert lam.list_functions()["Functions"] == []
    _create(lam, "keeper")  # the name is free, and the new function runs
    assert _invoke(lam, "keeper")["count"] == 1


FLAKY = """
import os
def handler(event, context):
    with open(event["attempts"], "a") as f:
        f.write("x")
    if not os.path.exists(event["ok"]):
        raise RuntimeError("not yet")
    open(event["done"], "w").close()
"""


def test_idle_reaping_and_queued_event_surviving_restart(tmp_path: Path) -> None:
    """Run with plain interpreter starts (no fork server) and signature checks, so that those modes
    are covered too."""
    server = ServerProcess(tmp_path / "data", env={
        "AWSEMU_LAMBDA_RETRY_SECONDS": "3600", "AWSEMU_LAMBDA_IDLE_SECONDS": "0.5", "AWSEMU_LAMBDA_FORK_SERVER": "0",
        "AWSEMU_AUTH": "sigv4",
    })
    try:
        server.start()
        lam = _client(server)
        _create(lam, "idler")
        first = _invoke(lam, "idler")
        wait_gone(first["pid"])  # reaped after half a second of idleness
        second = _invoke(lam, "idler")
        assert second["pid"] != first["pid"]
        assert second["count"] == 1  # a fresh environment: module state starts over

        # the environment's credentials are valid for awsemu's signature checks
        _create(lam, "signer", source="import boto3\ndef handler(e, c):\n"
                                       "    return boto3.client('sts').get_caller_identity()['Account']\n")
        assert _invoke(lam, "signer") == "000000000000"

        _create(lam, "later", source=FLAKY)
        files = {k: str(tmp_path / k) for k in ("attempts", "ok", "done")}
        assert lam.invoke(FunctionName="later", InvocationType="Event",
                          Payload=json.dumps(files).encode())["StatusCode"] == 202
        wait_for(Path(files["attempts"]))  # the first attempt failed; the retry waits an hour
        server.stop()
        Path(files["ok"]).touch()
        server.env["AWSEMU_LAMBDA_RETRY_SECONDS"] = "0.1"
        server.start()  # the queued event is picked up again from lsm
        wait_for(Path(files["done"]))
        assert len(Path(files["attempts"]).read_text()) >= 2
    finally:
        server.close()
