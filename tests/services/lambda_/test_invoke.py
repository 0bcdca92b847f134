"""Invoke through boto3 with real handlers in real execution environments."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import ROLE, WAIT_S, error_of, make_zip, python_zip, wait_for, wait_gone



def _invoke(lam: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event if event is not None else {}).encode(), **kwargs)
    raw = out["Payload"].read()
    return out, json.loads(raw) if raw else None


def test_handler_result_context_and_environment(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("""
        import os
        def handler(event, context):
            keys = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                    "_HANDLER", "AWS_REGION", "AWS_DEFAULT_REGION", "MY_VAR", "AWS_ENDPOINT_URL"]
            return {
                "event": event,
                "env": {k: os.environ.get(k) for k in keys},
                "has_api": ":" in os.environ["AWS_LAMBDA_RUNTIME_API"],
                "task_root_is_cwd": os.environ["LAMBDA_TASK_ROOT"] == os.getcwd(),
                "has_keys": bool(os.environ.get("AWS_ACCESS_KEY_ID")) and bool(os.environ.get("AWS_SECRET_ACCESS_KEY")),
                "request_id": context.aws_request_id,
                "arn": context.invoked_function_arn,
                "memory": context.memory_limit_in_mb,
                "remaining_positive": context.get_remaining_time_in_millis() > 0,
            }
    """, MemorySize=256, Environment={"Variables": {"MY_VAR": "hello"}})
    out, body = _invoke(lam, fname, {"x": [1, 2]})
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in out
    assert body["event"] == {"x": [1, 2]}
    env = body["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == fname
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["_HANDLER"] == "lambda_function.handler"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["MY_VAR"] == "hello"
    assert env["AWS_ENDPOINT_URL"] == lam.meta.endpoint_url
    assert body["has_api"] and body["task_root_is_cwd"] and body["has_keys"] and body["remaining_positive"]
    assert body["arn"].endswith(f":function:{fname}")
    assert str(body["memory"]) == "256"
    uuid.UUID(body["request_id"])


def test_warm_environment_keeps_module_state_and_tmp(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("""
        import os, tempfile
        COUNT = 0
        def handler(event, context):
            global COUNT
            COUNT += 1
            path = os.path.join(tempfile.gettempdir(), "seen")
            existed = os.path.exists(path)
            open(path, "w").close()
            return {"count": COUNT, "tmp_existed": existed, "pid": os.getpid()}
    """)
    answers = [_invoke(lam, fname)[1] for _ in range(4)]
    assert [a["count"] for a in answers] == [1, 2, 3, 4]
    assert [a["tmp_existed"] for a in answers] == [False, True, True, True]
    assert len({a["pid"] for a in answers}) == 1


def test_handler_exception_is_unhandled_function_error(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("""
        def handler(event, context):
            print("about to fail")
            raise ValueError("boom " + event["why"])
    """)
    out, body = _invoke(lam, fname, {"why": "because"}, LogType="Tail")
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    assert body["errorMessage"] == "boom because"
    assert body["errorType"] == "ValueError"
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]
    assert "lambda_function.py" in body["stackTrace"][-1]
    assert "raise ValueError" in body["stackTrace"][-1]
    logs = base64.b64decode(out["LogResult"]).decode()
    assert "about to fail" in logs
    assert "[ERROR] ValueError: boom because" in logs
    assert re.search(r"^START RequestId: \S+ Version: \$LATEST$", logs, re.M)
    assert re.search(r"^END RequestId: \S+$", logs, re.M)
    assert re.search(r"^REPORT RequestId: \S+\tDuration: [\d.]+ ms", logs, re.M)
    # the environment survives a handled exception: it still answers
    out, body = _invoke(lam, fname, {"why": "again"})
    assert body["errorMessage"] == "boom again"


def test_log_tail_is_the_last_4kb(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("""
        def handler(event, context):
            for i in range(500):
                print(f"line {i:04d} " + "x" * 40)
            return "done"
    """)
    out, body = _invoke(lam, fname, LogType="Tail")
    assert body == "done"
    logs = base64.b64decode(out["LogResult"])
    assert len(logs) == 4096
    assert b"line 0499" in logs and b"line 0000" not in logs
    assert b"REPORT RequestId:" in logs
    out, _ = _invoke(lam, fname)
    assert "LogResult" not in out


def test_timeout_kills_the_environment(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("""
        import os, time
        def handler(event, context):
            if event.get("sleep"):
                time.sleep(60)
            return {"pid": os.getpid()}
    """, Timeout=1)
    first_pid = _invoke(lam, fname)[1]["pid"]
    out, body = _invoke(lam, fname, {"sleep": True})
    assert out["StatusCode"] == 200
    assert out["FunctionError"] == "Unhandled"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [0-9a-f-]{36} Task timed out after 1\.00 seconds",
        body["errorMessage"],
    ), body
    # the timed-out environment is gone: the next invoke runs in a new process
    assert _invoke(lam, fname)[1]["pid"] != first_pid


def test_init_errors(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("import no_such_module_here\ndef handler(e, c):\n    return 1\n")
    out, body = _invoke(lam, fname)
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == (
        "Unable to import module 'lambda_function': No module named 'no_such_module_here'")
    lam.update_function_configuration(FunctionName=fname, Handler="lambda_function.nope")
    lam.update_function_code(FunctionName=fname, ZipFile=python_zip("def handler(e, c):\n    return 1\n"))
    out, body = _invoke(lam, fname)
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "Handler 'nope' missing on module 'lambda_function'"


def test_update_code_takes_effect(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("def handler(e, c):\n    return 'v1'\n")
    assert _invoke(lam, fname)[1] == "v1"
    lam.update_function_code(FunctionName=fname, ZipFile=python_zip("def handler(e, c):\n    return 'v2'\n"))
    assert _invoke(lam, fname)[1] == "v2"
    lam.update_function_configuration(FunctionName=fname, Environment={"Variables": {"V": "3"}})
    lam.update_function_code(FunctionName=fname,
                             ZipFile=python_zip("import os\ndef handler(e, c):\n    return os.environ['V']\n"))
    assert _invoke(lam, fname)[1] == "3"


def test_versions_and_aliases_run_their_own_code(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("def handler(e, c):\n    return 'one'\n", Publish=True)
    lam.update_function_code(FunctionName=fname, ZipFile=python_zip("def handler(e, c):\n    return 'two'\n"))
    lam.create_alias(FunctionName=fname, Name="stable", FunctionVersion="1")
    out, body = _invoke(lam, fname, Qualifier="1")
    assert (body, out["ExecutedVersion"]) == ("one", "1")
    out, body = _invoke(lam, f"{fname}:stable")
    assert (body, out["ExecutedVersion"]) == ("one", "1")
    out, body = _invoke(lam, fname)
    assert (body, out["ExecutedVersion"]) == ("two", "$LATEST")


def test_payload_checks_and_dry_run(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("def handler(e, c):\n    return e\n")
    out = lam.invoke(FunctionName=fname, InvocationType="DryRun")
    assert out["StatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        lam.invoke(FunctionName=fname, Payload=b"{not json")
    assert error_of(exc)[0] == "InvalidRequestContentException"
    assert error_of(exc)[2] == 400
    out = lam.invoke(FunctionName=fname)
    assert json.loads(out["Payload"].read()) == {}
    out, body = _invoke(lam, fname, "just a string")
    assert body == "just a string"


def test_unserializable_result(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("def handler(e, c):\n    return {1, 2}\n")
    out, body = _invoke(lam, fname)
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.MarshalError"
    assert body["errorMessage"].startswith("Unable to marshal response:")


def test_handler_uses_boto3_against_awsemu(lam: Any, aws_client: Callable[..., Any], create: Callable[..., Any],
                                           fname: str) -> None:
    sqs = aws_client("sqs")
    queue_url = sqs.create_queue(QueueName=f"q-{fname}")["QueueUrl"]
    create("""
        import boto3
        def handler(event, context):
            sqs = boto3.client("sqs")
            sqs.send_message(QueueUrl=event["queue"], MessageBody="from " + context.function_name)
            return "sent"
    """, Timeout=30)
    out, body = _invoke(lam, fname, {"queue": queue_url})
    assert "FunctionError" not in out, body
    assert body == "sent"
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5).get("Messages", [])
    assert [m["Body"] for m in messages] == [f"from {fname}"]


BOOTSTRAP = """\
#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  REQUEST_ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d: -f2 | tr -d '[:space:]')"
  rm -f "$HEADERS"
  echo "handling $REQUEST_ID"
  if [ "$EVENT" = '"fail"' ]; then
    curl -sS -X POST -H 'Lambda-Runtime-Function-Error-Type: Custom.Failure' \\
      "$API/invocation/$REQUEST_ID/error" -d '{"errorMessage": "asked to fail", "errorType": "Custom.Failure"}' >/dev/null
  else
    curl -sS -X POST "$API/invocation/$REQUEST_ID/response" \\
      -d "{\\"echo\\": $EVENT, \\"handler\\": \\"$_HANDLER\\", \\"fn\\": \\"$AWS_LAMBDA_FUNCTION_NAME\\"}" >/dev/null
  fi
done
"""


def test_custom_runtime_bootstrap(lam: Any, fname: str) -> None:
    lam.create_function(FunctionName=fname, Runtime="provided.al2023", Role=ROLE, Handler="my.handler",
                        Code={"ZipFile": make_zip({"bootstrap": BOOTSTRAP})}, Timeout=30)
    out, body = _invoke(lam, fname, {"n": 1}, LogType="Tail")
    assert "FunctionError" not in out, body
    assert body == {"echo": {"n": 1}, "handler": "my.handler", "fn": fname}
    assert "handling " in base64.b64decode(out["LogResult"]).decode()
    out, body = _invoke(lam, fname, {"n": 2})
    assert body["echo"] == {"n": 2}
    out, body = _invoke(lam, fname, "fail")
    assert out["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "asked to fail", "errorType": "Custom.Failure"}


def test_reserved_concurrency_throttles(lam: Any, create: Callable[..., Any], fname: str, tmp_path: Path) -> None:
    create("""
        import os, time
        def handler(event, context):
            if "started" in event:
                open(event["started"], "w").close()
                deadline = time.time() + 50
                while not os.path.exists(event["release"]) and time.time() < deadline:
                    time.sleep(0.01)
            return "ok"
    """, Timeout=60)
    lam.put_function_concurrency(FunctionName=fname, ReservedConcurrentExecutions=1)
    started, release = tmp_path / "started", tmp_path / "release"
    results: list[Any] = []
    worker = threading.Thread(target=lambda: results.append(
        _invoke(lam, fname, {"started": str(started), "release": str(release)})[1]))
    worker.start()
    try:
        wait_for(started)
        with pytest.raises(ClientError) as exc:
            lam.invoke(FunctionName=fname, Payload=b"{}")
        assert error_of(exc)[0] == "TooManyRequestsException"
        assert error_of(exc)[2] == 429
        assert exc.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    finally:
        release.touch()
        worker.join(WAIT_S)
    assert results == ["ok"]
    assert _invoke(lam, fname)[1] == "ok"  # the slot is free again
    lam.put_function_concurrency(FunctionName=fname, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as exc:
        lam.invoke(FunctionName=fname, Payload=b"{}")
    assert error_of(exc)[0] == "TooManyRequestsException"


def test_concurrent_invokes_get_separate_environments(lam: Any, create: Callable[..., Any], fname: str,
                                                      tmp_path: Path) -> None:
    create("""
        import os, time
        def handler(event, context):
            open(os.path.join(event["dir"], str(os.getpid())), "w").close()
            deadline = time.time() + 50
            while len(os.listdir(event["dir"])) < event["n"] and time.time() < deadline:
                time.sleep(0.01)
            return os.getpid()
    """, Timeout=60)
    n = 3
    pids: list[int] = []
    workers = [threading.Thread(target=lambda: pids.append(_invoke(lam, fname, {"dir": str(tmp_path), "n": n})[1]))
               for _ in range(n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(WAIT_S)
    assert len(pids) == n and len(set(pids)) == n


def test_event_invocation_runs_in_background_with_retries(lam: Any, aws_client: Callable[..., Any],
                                                          create: Callable[..., Any], fname: str,
                                                          tmp_path: Path) -> None:
    sqs = aws_client("sqs")
    queue_url = sqs.create_queue(QueueName=f"q-{fname}")["QueueUrl"]
    create("""
        import os, boto3
        def handler(event, context):
            counter = event["counter"]
            attempts = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
            open(counter, "w").write(str(attempts))
            if attempts < 3:
                raise RuntimeError(f"attempt {attempts} fails")
            boto3.client("sqs").send_message(QueueUrl=event["queue"], MessageBody=f"attempt {attempts}")
    """, Timeout=30)
    out = lam.invoke(FunctionName=fname, InvocationType="Event",
                     Payload=json.dumps({"counter": str(tmp_path / "n"), "queue": queue_url}).encode())
    assert out["StatusCode"] == 202
    assert out["Payload"].read() == b""
    bodies: list[str] = []
    deadline = time.monotonic() + WAIT_S
    while not bodies and time.monotonic() < deadline:
        bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2).get("Messages", [])]
    assert bodies == ["attempt 3"]


def test_memory_limit(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("""
        def handler(event, context):
            if event.get("big"):
                block = bytearray(1024 * 1024 * 1024)  # 1 GiB, far beyond MemorySize
                return len(block)
            return "small"
    """, MemorySize=128)
    out, body = _invoke(lam, fname, {"big": True})
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] in ("MemoryError", "Runtime.ExitError")
    assert _invoke(lam, fname)[1] == "small"


def test_layers(lam: Any, fname: str) -> None:
    layer_name = f"layer-{fname}"
    first = lam.publish_layer_version(
        LayerName=layer_name, Description="helpers", CompatibleRuntimes=["python3.11"],
        Content={"ZipFile": make_zip({"python/helper_lib.py": "WHO = 'layer one'\n"})},
    )
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert first["Version"] == 1
    assert first["LayerVersionArn"] == f"{first['LayerArn']}:1"
    assert first["LayerArn"].endswith(f":layer:{layer_name}")
    second = lam.publish_layer_version(
        LayerName=layer_name, CompatibleRuntimes=["python3.11"],
        Content={"ZipFile": make_zip({"python/helper_lib.py": "WHO = 'layer two'\n",
                                      "python/only_two.py": "X = 2\n"})},
    )
    assert second["Version"] == 2
    assert [v["Version"] for v in lam.list_layer_versions(LayerName=layer_name)["LayerVersions"]] == [2, 1]
    listed = [entry for entry in lam.list_layers(CompatibleRuntime="python3.11")["Layers"]
              if entry["LayerName"] == layer_name]
    assert listed[0]["LatestMatchingVersion"]["Version"] == 2
    assert lam.get_layer_version_by_arn(Arn=first["LayerVersionArn"])["Description"] == "helpers"

    created = lam.create_function(
        FunctionName=fname, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
        Layers=[second["LayerVersionArn"], first["LayerVersionArn"]],  # the later layer wins a clash
        Code={"ZipFile": python_zip("import helper_lib, only_two\ndef handler(e, c):\n"
                                    "    return [helper_lib.WHO, only_two.X]\n")},
    )
    assert created["Layers"] == [
        {"Arn": second["LayerVersionArn"], "CodeSize": second["Content"]["CodeSize"]},
        {"Arn": first["LayerVersionArn"], "CodeSize": first["Content"]["CodeSize"]},
    ]
    assert _invoke(lam, fname)[1] == ["layer one", 2]
    lam.delete_layer_version(LayerName=layer_name, VersionNumber=1)
    with pytest.raises(ClientError) as exc:
        lam.get_layer_version(LayerName=layer_name, VersionNumber=1)
    assert error_of(exc)[0] == "ResourceNotFoundException"
    lam.update_function_configuration(FunctionName=fname, Environment={"Variables": {"A": "b"}})
    assert _invoke(lam, fname)[1] == ["layer one", 2]  # a function keeps the layer versions it uses
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(FunctionName=fname, Layers=[first["LayerVersionArn"]])
    assert error_of(exc) == ("InvalidParameterValueException",
                             f"Layer version {first['LayerVersionArn']} does not exist.", 400)


def test_client_context_reaches_the_handler(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("def handler(e, c):\n    return c.client_context\n")
    context = base64.b64encode(json.dumps({"custom": {"who": "test"}}).encode()).decode()
    assert _invoke(lam, fname, ClientContext=context)[1] == {"custom": {"who": "test"}}
    with pytest.raises(ClientError) as exc:
        lam.invoke(FunctionName=fname, ClientContext="%%%not-base64")
    assert error_of(exc)[0] == "InvalidRequestContentException"


def test_custom_runtime_failures(lam: Any, fname: str) -> None:
    lam.create_function(FunctionName=fname, Runtime="provided.al2", Role=ROLE, Handler="x",
                        Code={"ZipFile": make_zip({"readme.txt": "no bootstrap here"})})
    out, body = _invoke(lam, fname)
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.InvalidEntrypoint"
    # a bootstrap that exits before polling for an event
    lam.update_function_code(FunctionName=fname, ZipFile=make_zip({"bootstrap": "#!/bin/sh\nexit 3\n"}))
    out, body = _invoke(lam, fname)
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: exit status 3")


def test_deleting_a_function_stops_its_environments(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("import os\ndef handler(e, c):\n    return os.getpid()\n")
    pid = _invoke(lam, fname)[1]
    lam.delete_function(FunctionName=fname)
    wait_gone(pid)


def test_runtime_api_refuses_unknown_requests(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create("""
        import http.client, json, os
        def call(method, path, body=None, chunked=False):
            conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
            conn.request(method, path, body=body, encode_chunked=chunked)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            return [resp.status, json.loads(data)]
        def chunks():
            yield b'{"x":'
            yield b' 1}'
        def handler(event, context):
            api = "/2018-06-01/runtime"
            return {
                "bogus_id": call("POST", api + "/invocation/not-a-request/response", b"{}"),
                "unknown_route": call("GET", api + "/nothing"),
                "chunked_bogus": call("POST", api + "/invocation/nope/error", chunks(), chunked=True),
            }
    """)
    out, body = _invoke(lam, fname)
    assert "FunctionError" not in out, body
    assert body["bogus_id"][0] == 400 and body["bogus_id"][1]["errorType"] == "InvalidRequestID"
    assert body["unknown_route"][0] == 404
    assert body["chunked_bogus"][0] == 400


def _receive_one(sqs: Any, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MessageAttributeNames=["All"]).get(
            "Messages", [])
        if messages:
            assert len(messages) == 1
            return messages[0]  # type: ignore[no-any-return]
    raise AssertionError(f"nothing arrived on {url}")


def test_async_results_reach_dead_letter_queue_and_destinations(
        lam: Any, aws_client: Callable[..., Any], create: Callable[..., Any], fname: str) -> None:
    sqs = aws_client("sqs")
    urls = {kind: sqs.create_queue(QueueName=f"{kind}-{fname}")["QueueUrl"] for kind in ("dlq", "fail", "ok")}
    arns = {kind: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            for kind, url in urls.items()}
    create("""
        def handler(event, context):
            if event.get("fail"):
                raise ValueError("failing on purpose")
            return {"done": event["n"]}
    """, DeadLetterConfig={"TargetArn": arns["dlq"]})
    lam.put_function_event_invoke_config(FunctionName=fname, MaximumRetryAttempts=0, DestinationConfig={
        "OnFailure": {"Destination": arns["fail"]}, "OnSuccess": {"Destination": arns["ok"]}})

    lam.invoke(FunctionName=fname, InvocationType="Event", Payload=b'{"fail": true, "n": 1}')
    dead = _receive_one(sqs, urls["dlq"])
    assert json.loads(dead["Body"]) == {"fail": True, "n": 1}
    assert dead["MessageAttributes"]["ErrorMessage"]["StringValue"] == "failing on purpose"
    assert dead["MessageAttributes"]["ErrorCode"]["StringValue"] == "200"
    uuid.UUID(dead["MessageAttributes"]["RequestID"]["StringValue"])
    failure = json.loads(_receive_one(sqs, urls["fail"])["Body"])
    assert failure["requestContext"]["condition"] == "RetriesExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 1
    assert failure["requestPayload"] == {"fail": True, "n": 1}
    assert failure["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert failure["responsePayload"]["errorMessage"] == "failing on purpose"

    lam.invoke(FunctionName=fname, InvocationType="Event", Payload=b'{"n": 2}')
    success = json.loads(_receive_one(sqs, urls["ok"])["Body"])
    assert success["requestContext"]["condition"] == "Success"
    assert success["responsePayload"] == {"done": 2}
    assert success["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
