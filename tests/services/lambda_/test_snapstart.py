"""SnapStart for python functions through boto3: the init of a published version runs once, at
PublishVersion, and its environments are forked from the initialized template; $LATEST inits per
environment; the configuration reports the optimization status as Lambda does."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import ROLE, WAIT_S, error_of, python_zip

SLOW_INIT = """
import os, random, time
time.sleep(0.5)  # an expensive init: paid once per template, not per cold start
INIT = {"time": time.time(), "random": random.random(), "pid": os.getpid()}
with open(os.path.join(os.environ["MARK_DIR"], "init-%d" % os.getpid()), "w") as f:
    f.write(os.environ["AWS_LAMBDA_FUNCTION_VERSION"])

def handler(event, context):
    # two invocations meet here, so they run in two environments at once
    mine = os.path.join(event["meet"], str(os.getpid()))
    open(mine, "w").close()
    deadline = time.time() + 30
    while len(os.listdir(event["meet"])) < 2 and time.time() < deadline:
        time.sleep(0.01)
    return {"init": INIT, "pid": os.getpid(), "type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
            "after": random.random()}
"""


def _two_environments(lam: Any, name: str, qualifier: str, meet: Path) -> list[dict[str, Any]]:
    """Invoke twice at once (each waits for the other): two cold environments."""
    meet.mkdir()

    def call(_: int) -> dict[str, Any]:
        out = lam.invoke(FunctionName=name, Qualifier=qualifier, Payload=json.dumps({"meet": str(meet)}).encode())
        body = json.loads(out["Payload"].read())
        assert "FunctionError" not in out, body
        return body  # type: ignore[no-any-return]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(call, range(2)))
    assert results[0]["pid"] != results[1]["pid"]
    return results


def test_published_version_forks_from_its_initialized_template(lam: Any, fname: str, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    created = lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE,
                                  Handler="lambda_function.handler", Code={"ZipFile": python_zip(SLOW_INIT)},
                                  Environment={"Variables": {"MARK_DIR": str(marks)}},
                                  SnapStart={"ApplyOn": "PublishedVersions"})
    assert created["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
    published = lam.publish_version(FunctionName=fname)
    assert published["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    config = lam.get_function_configuration(FunctionName=fname, Qualifier=published["Version"])
    assert config["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    latest = lam.get_function_configuration(FunctionName=fname)
    assert latest["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}

    # the init ran at publish, before any invoke, in one process (the template)
    inits = _wait_inits(marks, 1)
    assert len(inits) == 1 and inits[0].read_text() == published["Version"]

    first, second = _two_environments(lam, fname, published["Version"], tmp_path / "meet-v")
    assert first["init"] == second["init"]  # the same init: both forked from the template
    assert first["init"]["pid"] not in (first["pid"], second["pid"])
    assert first["type"] == second["type"] == "snap-start"
    assert first["after"] != second["after"]  # random is reseeded in each fork, as Python does after fork()
    assert len(list(marks.iterdir())) == 1  # no environment ran the init again

    # $LATEST inits in each environment
    one, two = _two_environments(lam, fname, "$LATEST", tmp_path / "meet-latest")
    assert one["init"] != two["init"]
    assert {one["init"]["pid"], two["init"]["pid"]} == {one["pid"], two["pid"]}
    assert one["type"] == "on-demand"
    assert len(list(marks.iterdir())) == 3


def _wait_inits(marks: Path, count: int) -> list[Path]:
    deadline = time.monotonic() + WAIT_S
    while len(list(marks.iterdir())) < count:
        assert time.monotonic() < deadline, "the SnapStart init never ran"
        time.sleep(0.02)
    return list(marks.iterdir())


def test_init_error_of_a_snapstart_version_is_reported_at_invoke(lam: Any, fname: str) -> None:
    lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip("raise ValueError('broken init')\n")},
                        SnapStart={"ApplyOn": "PublishedVersions"})
    version = lam.publish_version(FunctionName=fname)["Version"]
    out = lam.invoke(FunctionName=fname, Qualifier=version, Payload=b"{}")
    body = json.loads(out["Payload"].read())
    assert out["FunctionError"] == "Unhandled"
    # the template's init failed: the environment inits on its own and reports it as on-demand init does
    assert body["errorMessage"] == "broken init" and body["errorType"] == "ValueError"


def test_snapstart_settings(lam: Any, fname: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.create_function(FunctionName=fname, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": python_zip("", module="index")},
                            SnapStart={"ApplyOn": "PublishedVersions"})
    assert error_of(excinfo)[0] == "InvalidParameterValueException"
    lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip("def handler(e, c):\n    return 1\n")})
    assert lam.get_function_configuration(FunctionName=fname)["SnapStart"] == {"ApplyOn": "None",
                                                                               "OptimizationStatus": "Off"}
    updated = lam.update_function_configuration(FunctionName=fname, SnapStart={"ApplyOn": "PublishedVersions"})
    assert updated["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "Off"}
    lam.get_waiter("function_updated_v2").wait(FunctionName=fname)
    version = lam.publish_version(FunctionName=fname)
    assert version["SnapStart"]["OptimizationStatus"] == "On"
    out = lam.invoke(FunctionName=fname, Qualifier=version["Version"])
    assert json.loads(out["Payload"].read()) == 1


WAITS_FOR_FILE = """
import os, time
INIT_PID = os.getpid()

def handler(event, context):
    if event.get("hold"):
        open(event["started"], "w").close()
        deadline = time.time() + 30
        while not os.path.exists(event["hold"]) and time.time() < deadline:
            time.sleep(0.01)
    return {"init_pid": INIT_PID, "pid": os.getpid()}
"""


def test_a_change_retires_the_template_after_its_busy_environment_finishes(lam: Any, fname: str,
                                                                           tmp_path: Path) -> None:
    lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(WAITS_FOR_FILE)}, SnapStart={"ApplyOn": "PublishedVersions"})
    version = lam.publish_version(FunctionName=fname)["Version"]
    started, hold = tmp_path / "started", tmp_path / "hold"

    def held() -> dict[str, Any]:
        out = lam.invoke(FunctionName=fname, Qualifier=version,
                         Payload=json.dumps({"hold": str(hold), "started": str(started)}).encode())
        assert "FunctionError" not in out
        return json.loads(out["Payload"].read())  # type: ignore[no-any-return]

    with ThreadPoolExecutor(1) as pool:
        busy = pool.submit(held)
        deadline = time.monotonic() + WAIT_S
        while not started.exists():
            assert time.monotonic() < deadline and not busy.done(), "the invocation never started"
            time.sleep(0.01)
        # a change of the function retires its environments and its version's template
        lam.update_function_configuration(FunctionName=fname, Description="changed")
        hold.touch()
        first = busy.result()
    assert first["init_pid"] != first["pid"]  # forked from the template
    out = lam.invoke(FunctionName=fname, Qualifier=version, Payload=b"{}")
    again = json.loads(out["Payload"].read())
    assert "FunctionError" not in out
    assert again["pid"] != first["pid"]  # the retired environment was not reused
    assert again["init_pid"] not in (first["init_pid"], again["pid"])  # a new template, still forked from


HOOKS = """
import os
from snapshot_restore_py import register_after_restore, register_before_snapshot

ORDER = []
RESTORED = []

@register_before_snapshot
def first_before():
    ORDER.append("first")

def second_before(tag, suffix=""):
    ORDER.append(tag + suffix)
    open(os.path.join(os.environ["MARK_DIR"], "before-%d" % os.getpid()), "w").close()

register_before_snapshot(second_before, "second", suffix="!")

@register_after_restore
def restored():
    RESTORED.append(("restored", os.getpid()))

register_after_restore(lambda: RESTORED.append(("then", os.getpid())))

def handler(event, context):
    return {"before": ORDER, "restored": RESTORED, "pid": os.getpid()}
"""


def test_runtime_hooks_run_before_the_snapshot_and_after_each_restore(lam: Any, fname: str, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(HOOKS)}, Environment={"Variables": {"MARK_DIR": str(marks)}},
                        SnapStart={"ApplyOn": "PublishedVersions"})
    version = lam.publish_version(FunctionName=fname)["Version"]
    [before] = _wait_inits(marks, 1)  # the before-snapshot hooks ran at publish, in the template
    template_pid = int(before.name.split("-")[1])

    out = lam.invoke(FunctionName=fname, Qualifier=version)
    assert "FunctionError" not in out
    body = json.loads(out["Payload"].read())
    # before-snapshot hooks: last registered first, once (in the template: the environment inherits the state)
    assert body["before"] == ["second!", "first"]
    assert body["pid"] != template_pid
    # after-restore hooks: in the order of registration, in the environment itself
    assert body["restored"] == [["restored", body["pid"]], ["then", body["pid"]]]
    assert len(list(marks.iterdir())) == 1

    # $LATEST is not restored from a snapshot: neither kind runs
    out = lam.invoke(FunctionName=fname)
    assert json.loads(out["Payload"].read())["before"] == [] and len(list(marks.iterdir())) == 1


def test_a_failing_after_restore_hook_fails_the_invoke(lam: Any, fname: str) -> None:
    source = ("from snapshot_restore_py import register_after_restore\n"
              "@register_after_restore\n"
              "def broken():\n    raise RuntimeError('cannot reconnect')\n"
              "def handler(event, context):\n    return 1\n")
    lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(source)}, SnapStart={"ApplyOn": "PublishedVersions"})
    version = lam.publish_version(FunctionName=fname)["Version"]
    out = lam.invoke(FunctionName=fname, Qualifier=version)
    assert out["FunctionError"] == "Unhandled"
    body = json.loads(out["Payload"].read())
    assert (body["errorType"], body["errorMessage"]) == ("Runtime.AfterRestoreError", "cannot reconnect")
    assert json.loads(lam.invoke(FunctionName=fname)["Payload"].read()) == 1  # $LATEST restores nothing
