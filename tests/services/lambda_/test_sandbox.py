"""Isolation (sandbox.py): in bubblewrap, code is read-only at /var/task, layers are at /opt, each
execution environment has a private /tmp kept across its warm invokes; with
``AWSEMU_LAMBDA_SANDBOX=none`` environments are plain processes that see the host's directories.

The session server runs in ``auto`` mode, which is bubblewrap on any host where ``bwrap`` works:
these tests require it and fail with a clear message where it is missing (CI installs bubblewrap).
"""

from __future__ import annotations

import errno
import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from botocore.config import Config as BotoConfig

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess
from lambda_helpers import ROLE, WAIT_S, make_zip, python_zip, wait_for

PROBE = """
import errno, json, os, sys

def _write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return "written"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))

def handler(event, context):
    out = {"pid": os.getpid(), "task_root": os.environ["LAMBDA_TASK_ROOT"], "cwd": os.getcwd(),
           "write_task": _write(os.environ["LAMBDA_TASK_ROOT"] + "/new.txt"), "write_root": _write("/new.txt"),
           "tmp_before": sorted(os.listdir("/tmp"))}
    if event.get("mark"):
        with open("/tmp/" + event["mark"], "w") as f:
            f.write(str(os.getpid()))
    if event.get("meet"):  # two concurrent environments: say we are here, wait for the other one
        meet = event["meet"]
        open(os.path.join(meet, str(os.getpid())), "w").close()
        import time
        deadline = time.time() + 30
        while len(os.listdir(meet)) < 2 and time.time() < deadline:
            time.sleep(0.01)
    out["tmp_after"] = sorted(os.listdir("/tmp"))
    return out
"""

LAYERED = """
import os, shutil
import layer_helper

def handler(event, context):
    return {"helper": layer_helper.VALUE, "helper_file": layer_helper.__file__,
            "data": open("/opt/data/info.txt").read(), "tool": shutil.which("layer-tool"),
            "path": os.environ["PATH"].split(":"), "ld": os.environ.get("LD_LIBRARY_PATH", "").split(":"),
            "write_opt": _write("/opt/new.txt")}

def _write(path):
    try:
        open(path, "w").close()
        return "written"
    except OSError as exc:
        return exc.errno
"""

SDK_CALL = """
import boto3

def handler(event, context):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=event["queue"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="from the sandbox")
    return url
"""


def isolation_line(server: ServerProcess) -> str:
    """The server's "Lambda isolation: ..." log line (it decides in the background at start-up)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        lines = [line for line in server.log().splitlines() if "Lambda isolation: " in line]
        if lines or time.monotonic() > deadline:
            return lines[0] if lines else ""
        time.sleep(0.02)


def require_bubblewrap(server: ServerProcess) -> None:
    """Fail (never skip) when this host cannot run the sandbox these tests are about."""
    assert shutil.which("bwrap"), (
        "bubblewrap is not installed (no `bwrap` on PATH): the Lambda sandbox tests need it "
        "(apt-get install bubblewrap)")
    line = isolation_line(server)
    assert "Lambda isolation: bubblewrap" in line, (
        f"`bwrap` is installed but the server did not choose the bubblewrap sandbox; its log says: {line!r}")


@pytest.fixture
def sandboxed(awsemu_server: ServerProcess) -> None:
    require_bubblewrap(awsemu_server)


def _invoke(lam: Any, name: str, event: Any = None) -> Any:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, body
    return body


def test_code_is_read_only_at_var_task_and_the_root_too(sandboxed: None, lam: Any,
                                                        create: Callable[..., Any], fname: str) -> None:
    create(PROBE)
    body = _invoke(lam, fname)
    assert body["task_root"] == "/var/task"
    assert body["cwd"] == "/var/task"
    assert body["write_task"] == errno.errorcode[errno.EROFS]
    assert body["write_root"] == errno.errorcode[errno.EROFS]


def test_tmp_is_private_and_kept_across_warm_invokes(sandboxed: None, lam: Any, create: Callable[..., Any],
                                                     fname: str) -> None:
    create(PROBE)
    first = _invoke(lam, fname, {"mark": "secret-a"})
    assert "secret-a" not in first["tmp_before"] and "secret-a" in first["tmp_after"]
    again = _invoke(lam, fname)
    assert again["pid"] == first["pid"]  # the same (warm) environment: its /tmp is still there
    assert "secret-a" in again["tmp_before"]

    other = f"{fname}-b"
    lam.create_function(FunctionName=other, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(PROBE)})
    try:
        seen_by_b = _invoke(lam, other)
        assert "secret-a" not in seen_by_b["tmp_before"]  # same code, another function: another /tmp
    finally:
        lam.delete_function(FunctionName=other)


def test_two_environments_of_one_function_have_their_own_tmp(sandboxed: None, lam: Any,
                                                             create: Callable[..., Any], fname: str,
                                                             tmp_path: Path) -> None:
    create(PROBE, Timeout=60)
    meet = tmp_path / "meet"
    meet.mkdir()
    results: list[Any] = []
    workers = [threading.Thread(target=lambda n=n: results.append(
        _invoke(lam, fname, {"mark": f"env-{n}", "meet": str(meet)}))) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(results) == 2 and results[0]["pid"] != results[1]["pid"]
    for body in results:  # each sees its own mark only, though both ran at once
        assert len([name for name in body["tmp_after"] if name.startswith("env-")]) == 1


def test_layers_are_unpacked_at_opt(sandboxed: None, lam: Any, create: Callable[..., Any], fname: str) -> None:
    layer = lam.publish_layer_version(LayerName=f"{fname}-layer", Content={"ZipFile": make_zip({
        "python/layer_helper.py": "VALUE = 'from the layer'\n",
        "data/info.txt": "layer data",
        "bin/layer-tool": "#!/bin/sh\necho tool\n",
    }, mode=0o755)})
    try:
        create(LAYERED, Layers=[layer["LayerVersionArn"]])
        body = _invoke(lam, fname)
        assert body["helper"] == "from the layer"
        assert body["helper_file"] == "/opt/python/layer_helper.py"
        assert body["data"] == "layer data"
        assert body["tool"] == "/opt/bin/layer-tool"
        assert "/opt/bin" in body["path"] and "/opt/lib" in body["ld"]
        assert body["write_opt"] == errno.EROFS
    finally:
        lam.delete_layer_version(LayerName=f"{fname}-layer", VersionNumber=layer["Version"])


def test_the_sdk_reaches_awsemu_from_the_sandbox(sandboxed: None, lam: Any, create: Callable[..., Any],
                                                 fname: str, aws_client: Callable[..., Any]) -> None:
    create(SDK_CALL)
    url = _invoke(lam, fname, {"queue": fname})
    sqs = aws_client("sqs")
    try:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
        assert [m["Body"] for m in messages] == ["from the sandbox"]
    finally:
        sqs.delete_queue(QueueUrl=url)


NODE_PROBE = """
const fs = require('fs');
exports.handler = async (event) => {
  let write;
  try { fs.writeFileSync('/var/task/new.txt', 'x'); write = 'written'; } catch (e) { write = e.code; }
  const before = fs.readdirSync('/tmp');
  fs.writeFileSync('/tmp/node-mark', 'x');
  return { root: process.env.LAMBDA_TASK_ROOT, cwd: process.cwd(), write, before, pid: process.pid,
           helper: require('layer-helper').value };
};
"""


def test_node_runs_in_its_own_sandbox(sandboxed: None, lam: Any, fname: str) -> None:
    assert shutil.which("node"), "node is not installed: nodejs functions need it (see test_nodejs.py)"
    layer = lam.publish_layer_version(LayerName=f"{fname}-layer", Content={"ZipFile": make_zip({
        "nodejs/node_modules/layer-helper/index.js": "exports.value = 'node layer';\n"})})
    try:
        lam.create_function(FunctionName=fname, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                            Code={"ZipFile": make_zip({"index.js": NODE_PROBE})}, Layers=[layer["LayerVersionArn"]])
        first = _invoke(lam, fname)
        assert (first["root"], first["cwd"], first["write"]) == ("/var/task", "/var/task", "EROFS")
        assert first["helper"] == "node layer"
        assert "node-mark" not in first["before"]
        again = _invoke(lam, fname)
        assert again["pid"] == first["pid"] and "node-mark" in again["before"]
    finally:
        lam.delete_layer_version(LayerName=f"{fname}-layer", VersionNumber=layer["Version"])


BOOTSTRAP = """\
#!/bin/sh
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  curl -sS -D "$HEADERS" "$API/invocation/next" >/dev/null
  REQUEST_ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d: -f2 | tr -d '[:space:]')"
  if touch /var/task/new.txt 2>/dev/null; then WRITE=written; else WRITE=refused; fi
  curl -sS -X POST "$API/invocation/$REQUEST_ID/response" \\
    -d "{\\"root\\": \\"$LAMBDA_TASK_ROOT\\", \\"self\\": \\"$0\\", \\"cwd\\": \\"$(pwd)\\", \\"write\\": \\"$WRITE\\"}" >/dev/null
done
"""


def test_custom_runtime_bootstrap_runs_from_var_task(sandboxed: None, lam: Any, fname: str) -> None:
    lam.create_function(FunctionName=fname, Runtime="provided.al2023", Role=ROLE, Handler="x.y",
                        Code={"ZipFile": make_zip({"bootstrap": BOOTSTRAP})})
    assert _invoke(lam, fname) == {"root": "/var/task", "self": "/var/task/bootstrap", "cwd": "/var/task",
                                   "write": "refused"}


# -- plain processes -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plain_server() -> Iterator[ServerProcess]:
    server = ServerProcess(env={"AWSEMU_LAMBDA_SANDBOX": "none", "AWSEMU_SERVICES": "lambda"})
    server.start()
    try:
        yield server
    finally:
        server.close()


def test_plain_processes_see_the_host_directories(plain_server: ServerProcess) -> None:
    lam = make_client(plain_server.endpoint, "lambda", config=BotoConfig(retries={"max_attempts": 1},
                                                                          read_timeout=120))
    lam.create_function(FunctionName="plain", Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(PROBE)})
    first = _invoke(lam, "plain", {"mark": "plain-mark"})
    # the unpacked package in awsemu's data directory, writable like any local folder
    assert first["task_root"].startswith(str(plain_server.data_dir)) and first["task_root"] == first["cwd"]
    assert first["write_task"] == "written"
    again = _invoke(lam, "plain")
    assert again["pid"] == first["pid"]
    assert "Lambda isolation: plain processes (AWSEMU_LAMBDA_SANDBOX=none)" in isolation_line(plain_server)


def test_sandbox_share_is_readable_and_writable(sandboxed: None, lam: Any, create: Callable[..., Any],
                                               fname: str, tmp_path: Path) -> None:
    """The session shares its temporary folder (conftest.py): handlers write there, tests read."""
    create("def handler(event, context):\n    open(event['path'], 'w').write('hello')\n    return 1\n")
    _invoke(lam, fname, {"path": str(tmp_path / "from-handler")})
    wait_for(tmp_path / "from-handler")
    assert (tmp_path / "from-handler").read_text() == "hello"


def test_bwrap_mode_without_bubblewrap_fails_every_invoke_loudly(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"AWSEMU_LAMBDA_SANDBOX": "bwrap", "PATH": str(tmp_path),
                                                   "AWSEMU_SERVICES": "lambda"})
    server.start()
    try:
        assert "Lambda isolation: none available, and AWSEMU_LAMBDA_SANDBOX=bwrap" in isolation_line(server)
        lam = make_client(server.endpoint, "lambda", config=BotoConfig(retries={"max_attempts": 1},
                                                                        read_timeout=120))
        lam.create_function(FunctionName="boxed", Runtime="python3.11", Role=ROLE,
                            Handler="lambda_function.handler", Code={"ZipFile": python_zip(PROBE)})
        out = lam.invoke(FunctionName="boxed", Payload=b"{}")
        assert out["FunctionError"] == "Unhandled"
        assert json.loads(out["Payload"].read()) == {
            "errorType": "Runtime.Unavailable",
            "errorMessage": "AWSEMU_LAMBDA_SANDBOX=bwrap, but bubblewrap cannot run here: bwrap not found"}
    finally:
        server.close()


def test_hot_reload_directory_is_var_task_read_only_with_edits_visible(sandboxed: None, lam: Any, fname: str,
                                                                       tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(PROBE.replace("def handler", "EDIT = 1\n\ndef handler")
                                 .replace('return out', 'out["edit"] = EDIT\n    return out'))
    lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"S3Bucket": "hot-reload", "S3Key": str(code)})
    first = _invoke(lam, fname)
    assert (first["task_root"], first["write_task"], first["edit"]) == ("/var/task", "EROFS", 1)
    (code / "app.py").write_text((code / "app.py").read_text().replace("EDIT = 1", "EDIT = 2"))
    assert _invoke(lam, fname)["edit"] == 2
    assert not (code / "new.txt").exists()


# -- one sandboxed fork server for every function of an interpreter -------------------------------------
SEEKER = """
import os

def handler(event, context):
    found = []
    for top in ("/var", "/opt", "/tmp", event["data_dir"]):
        for root, dirs, files in os.walk(top, onerror=lambda exc: None):
            if root.startswith(("/var/cache", "/var/lib")):  # the host's, read-only and large
                dirs[:] = []
            found += [os.path.join(root, name) for name in files if name.startswith("marker-")]
    try:
        stage = sorted(os.listdir("/var/awsemu/host"))
    except OSError as exc:
        stage = exc.strerror
    with open("/proc/self/mountinfo") as f:
        staged = [line.split()[4] for line in f if line.split()[4].startswith("/var/awsemu/host/")]
    return {"found": sorted(found), "stage": stage, "staged_mounts": staged, "parent": os.getppid()}
"""

PARENT = "import os\n\ndef handler(event, context):\n    return {'parent': os.getppid(), 'code': CODE}\n"


def _create(lam: Any, name: str, files: dict[str, str], **kwargs: Any) -> None:
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": make_zip(files)}, **kwargs)


def test_a_function_sees_no_other_functions_code(sandboxed: None, awsemu_server: ServerProcess, lam: Any,
                                                 fname: str, tmp_path: Path) -> None:
    other = f"{fname}-other"
    _create(lam, other, {"lambda_function.py": PARENT.replace("CODE", "'other'"), "marker-other.txt": "secret"})
    try:
        assert _invoke(lam, other)["code"] == "other"  # its package is unpacked in awsemu's code cache now
        _create(lam, fname, {"lambda_function.py": SEEKER, "marker-mine.txt": "mine"})
        body = _invoke(lam, fname, {"data_dir": str(awsemu_server.data_dir)})
    finally:
        lam.delete_function(FunctionName=other)
    assert body["found"] == ["/var/task/marker-mine.txt"]  # its own code, and nobody else's
    # the staging mount removed, or covered (in a user namespace); absent in the layout of a fork server per code
    assert body["stage"] in ([], "Permission denied", "No such file or directory")
    assert body["staged_mounts"] == []


def test_functions_with_different_code_fork_from_one_sandboxed_server(sandboxed: None, lam: Any, fname: str,
                                                                      tmp_path: Path) -> None:
    hot = tmp_path / "hot"
    hot.mkdir()
    (hot / "lambda_function.py").write_text(PARENT.replace("CODE", "'hot'"))
    names = [f"{fname}-{n}" for n in range(2)]
    for n, name in enumerate(names):
        _create(lam, name, {"lambda_function.py": PARENT.replace("CODE", repr(f"zip-{n}"))})
    lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"S3Bucket": "hot-reload", "S3Key": str(hot)})
    try:
        bodies = [_invoke(lam, name) for name in [*names, fname]]
    finally:
        for name in names:
            lam.delete_function(FunctionName=name)
    assert [body["code"] for body in bodies] == ["zip-0", "zip-1", "hot"]  # each runs its own code...
    assert len({body["parent"] for body in bodies}) == 1  # ...forked by the same fork server
