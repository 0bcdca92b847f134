"""Provisioned concurrency starts initialized execution environments ahead: their init runs with
AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency before any invoke, invocations use them (no
init on the first invoke, no Init Duration in the REPORT line), deleting the configuration frees them,
and a restarted server warms them again."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config as BotoConfig

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess
from lambda_helpers import ROLE, WAIT_S, error_of, python_zip, wait_gone, wait_provisioned

SOURCE = """
import os, time
INIT_TYPE = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")
COUNT = 0
open(os.path.join(os.environ["MARKS"], f"{INIT_TYPE}-{os.getpid()}"), "w").close()

def handler(event, context):
    global COUNT
    COUNT += 1
    time.sleep(event.get("sleep", 0))
    return {"init_type": INIT_TYPE, "count": COUNT, "pid": os.getpid()}
"""


def _inits(marks: Path, kind: str) -> list[int]:
    return sorted(int(p.name.rsplit("-", 1)[1]) for p in marks.iterdir() if p.name.startswith(kind + "-"))


def _wait_inits(marks: Path, kind: str, count: int) -> list[int]:
    deadline = time.monotonic() + WAIT_S
    while len(_inits(marks, kind)) < count:
        assert time.monotonic() < deadline, f"{count} {kind} inits never ran: {_inits(marks, kind)}"
        time.sleep(0.02)
    return _inits(marks, kind)


def _invoke(lam: Any, name: str, qualifier: str, event: dict[str, Any] | None = None) -> tuple[dict[str, Any], str]:
    out = lam.invoke(FunctionName=name, Qualifier=qualifier, Payload=json.dumps(event or {}), LogType="Tail")
    assert "FunctionError" not in out
    return json.loads(out["Payload"].read()), base64.b64decode(out["LogResult"]).decode()


def _report(tail: str) -> str:
    return next(line for line in tail.splitlines() if line.startswith("REPORT "))


def test_environments_are_initialized_ahead_and_freed(lam: Any, create: Any, fname: str, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    create(SOURCE, Publish=True, Environment={"Variables": {"MARKS": str(marks)}})
    put = lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="1", ProvisionedConcurrentExecutions=2)
    assert put["Status"] == "IN_PROGRESS"
    config = wait_provisioned(lam, fname, "1")
    assert config["AllocatedProvisionedConcurrentExecutions"] == config["AvailableProvisionedConcurrentExecutions"] == 2
    warm = _inits(marks, "provisioned-concurrency")
    assert len(warm) == 2  # both ran their init before any invoke
    assert _inits(marks, "on-demand") == []

    # the first invoke of version 1 runs on a provisioned environment: no init, no Init Duration
    result, tail = _invoke(lam, fname, "1")
    assert result["init_type"] == "provisioned-concurrency" and result["count"] == 1 and result["pid"] in warm
    assert "Init Duration" not in _report(tail)
    # two at once: both provisioned environments serve, no cold start
    with ThreadPoolExecutor(2) as workers:
        both = [f.result()[0] for f in [workers.submit(_invoke, lam, fname, "1", {"sleep": 0.5}) for _ in range(2)]]
    assert sorted(r["pid"] for r in both) == warm
    assert {r["init_type"] for r in both} == {"provisioned-concurrency"}
    assert len(list(marks.iterdir())) == 2  # no other init ran

    # $LATEST has no configuration: an on-demand cold start, whose REPORT line shows its init
    result, tail = _invoke(lam, fname, "$LATEST")
    assert result["init_type"] == "on-demand" and result["count"] == 1
    assert "\tInit Duration: " in _report(tail)

    # deleting the configuration frees its environments; the next invoke of version 1 is a cold start
    lam.delete_provisioned_concurrency_config(FunctionName=fname, Qualifier="1")
    for pid in warm:
        wait_gone(pid)
    result, tail = _invoke(lam, fname, "1")
    assert result["init_type"] == "on-demand" and result["count"] == 1
    assert "\tInit Duration: " in _report(tail)


def test_alias_configuration_warms_its_version(lam: Any, create: Any, fname: str, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    create(SOURCE, Publish=True, Environment={"Variables": {"MARKS": str(marks)}})
    lam.create_alias(FunctionName=fname, Name="live", FunctionVersion="1")
    lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="live", ProvisionedConcurrentExecutions=1)
    wait_provisioned(lam, fname, "live")
    [pid] = _inits(marks, "provisioned-concurrency")
    result, _ = _invoke(lam, fname, "live")
    assert result == {"init_type": "provisioned-concurrency", "count": 1, "pid": pid}
    # reserved concurrency may not go below the function's provisioned total
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as below:
        lam.put_function_concurrency(FunctionName=fname, ReservedConcurrentExecutions=0)
    assert error_of(below) == ("InvalidParameterValueException", "ReservedConcurrentExecutions 0 should not be lower "
                               "than function's total provisioned concurrency [1].", 400)
    # a function deleted with its configurations frees their environments
    lam.delete_function(FunctionName=fname)
    wait_gone(pid)


def test_warmed_again_after_a_restart(fresh_server: ServerProcess, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    config = BotoConfig(retries={"max_attempts": 1}, read_timeout=120)
    fresh_server.start()
    lam = make_client(fresh_server.endpoint, "lambda", config=config)
    lam.create_function(FunctionName="warm", Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(SOURCE)}, Publish=True,
                        Environment={"Variables": {"MARKS": str(marks)}})
    lam.put_provisioned_concurrency_config(FunctionName="warm", Qualifier="1", ProvisionedConcurrentExecutions=1)
    wait_provisioned(lam, "warm", "1")
    [first] = _inits(marks, "provisioned-concurrency")
    assert fresh_server.stop() == 0
    wait_gone(first)

    fresh_server.start()
    lam = make_client(fresh_server.endpoint, "lambda", config=config)
    second = [p for p in _wait_inits(marks, "provisioned-concurrency", 2) if p != first]
    assert len(second) == 1
    wait_provisioned(lam, "warm", "1")
    result, tail = _invoke(lam, "warm", "1")
    assert result == {"init_type": "provisioned-concurrency", "count": 1, "pid": second[0]}
    assert "Init Duration" not in _report(tail)


def test_an_init_that_fails_is_a_failed_configuration(lam: Any, create: Any, fname: str) -> None:
    create("raise ValueError('no database')\n", Publish=True)
    lam.put_provisioned_concurrency_config(FunctionName=fname, Qualifier="1", ProvisionedConcurrentExecutions=1)
    deadline = time.monotonic() + WAIT_S
    while (config := lam.get_provisioned_concurrency_config(FunctionName=fname, Qualifier="1"))["Status"] != "FAILED":
        assert config["Status"] == "IN_PROGRESS" and time.monotonic() < deadline, config
        time.sleep(0.05)
    assert config["AllocatedProvisionedConcurrentExecutions"] == 0
    assert "ValueError" in config["StatusReason"] and "no database" in config["StatusReason"]
