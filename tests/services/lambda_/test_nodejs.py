"""nodejs20.x functions on the local node, through boto3: results, errors, callbacks, ES modules,
logs, response streaming, and the error when no node is installed."""

from __future__ import annotations

import base64
import http.client
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess
from lambda_helpers import ROLE, make_zip

COMMONJS = """
let calls = 0;
exports.handler = async (event, context) => {
  calls += 1;
  console.log('got', JSON.stringify(event));
  if (event.fail) throw new TypeError('bad input');
  return { echo: event, calls, fn: context.functionName, id: context.awsRequestId,
           remaining: context.getRemainingTimeInMillis() > 0, region: process.env.AWS_REGION };
};
exports.callback = (event, context, callback) => {
  setTimeout(() => callback(null, { via: 'callback', n: event.n }), 5);
};
exports.nothing = async () => undefined;
"""

ESM = """
export const handler = async (event) => ({ esm: true, sum: event.a + event.b });
"""

STREAMING = """
exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  for (const part of event.parts) {
    responseStream.write(part);
    await new Promise((r) => setTimeout(r, 5));
  }
  if (event.fail) throw new Error('stream broke');
  responseStream.end();
});
"""


LIVE = """
const fs = require('fs');
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write('first');
  const until = Date.now() + 20000;  // the test creates the file once it has read 'first'
  while (!fs.existsSync(event.flag) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  responseStream.write(fs.existsSync(event.flag) ? 'seen' : 'late');
  responseStream.end();
});
"""


URL_STREAM = """
const fs = require('fs');
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  if (event.rawPath === '/plain') {
    responseStream.setContentType('text/csv');
    responseStream.write('a,b\\n');
    responseStream.end();
    return;
  }
  const flag = event.queryStringParameters.flag;
  const out = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201, headers: { 'content-type': 'text/plain', 'x-a': 'b' }, cookies: ['c=1'] });
  out.write('hello ');
  const until = Date.now() + 20000;  // the test creates the file once it has read 'hello '
  while (!fs.existsSync(flag) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  out.write(fs.existsSync(flag) ? 'seen' : 'late');
  out.end();
});
"""


def _create(lam: Any, name: str, files: dict[str, str], handler: str) -> None:
    lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler=handler,
                        Code={"ZipFile": make_zip(files)}, Timeout=30)


def _invoke(lam: Any, name: str, event: Any, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    return out, json.loads(out["Payload"].read())


def test_commonjs_handlers_errors_and_logs(lam: Any, fname: str) -> None:
    assert shutil.which("node"), "node is expected on this machine"
    _create(lam, fname, {"index.js": COMMONJS}, "index.handler")
    out, body = _invoke(lam, fname, {"x": 1}, LogType="Tail")
    assert "FunctionError" not in out, body
    assert body["echo"] == {"x": 1} and body["calls"] == 1 and body["fn"] == fname
    assert body["remaining"] is True and body["region"] == "us-east-1" and len(body["id"]) == 36
    log = base64.b64decode(out["LogResult"]).decode()
    assert f"\t{body['id']}\tINFO\tgot {{\"x\":1}}" in log and "REPORT RequestId:" in log
    _, body = _invoke(lam, fname, {"x": 2})
    assert body["calls"] == 2  # a warm environment keeps module state

    out, body = _invoke(lam, fname, {"fail": True})
    assert out["FunctionError"] == "Unhandled"
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "bad input"
    assert body["trace"][0] == "TypeError: bad input"

    lam.update_function_configuration(FunctionName=fname, Handler="index.callback")
    lam.get_waiter("function_updated_v2").wait(FunctionName=fname)
    assert _invoke(lam, fname, {"n": 5})[1] == {"via": "callback", "n": 5}
    lam.update_function_configuration(FunctionName=fname, Handler="index.nothing")
    lam.get_waiter("function_updated_v2").wait(FunctionName=fname)
    assert _invoke(lam, fname, {})[1] is None

    lam.update_function_configuration(FunctionName=fname, Handler="index.missing")
    lam.get_waiter("function_updated_v2").wait(FunctionName=fname)
    out, body = _invoke(lam, fname, {})
    assert out["FunctionError"] == "Unhandled" and body["errorType"] == "Runtime.HandlerNotFound"
    lam.update_function_configuration(FunctionName=fname, Handler="nosuch.handler")
    lam.get_waiter("function_updated_v2").wait(FunctionName=fname)
    out, body = _invoke(lam, fname, {})
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Error: Cannot find module 'nosuch'"


def test_es_module_and_response_streaming(lam: Any, fname: str) -> None:
    _create(lam, fname, {"app.mjs": ESM, "stream.js": STREAMING}, "app.handler")
    assert _invoke(lam, fname, {"a": 2, "b": 3})[1] == {"esm": True, "sum": 5}

    lam.update_function_configuration(FunctionName=fname, Handler="stream.handler")
    lam.get_waiter("function_updated_v2").wait(FunctionName=fname)
    out = lam.invoke_with_response_stream(FunctionName=fname, Payload=json.dumps({"parts": ["a", "bb", "ccc"]}))
    events = list(out["EventStream"])
    chunks = [e["PayloadChunk"]["Payload"] for e in events[:-1]]
    assert b"".join(chunks) == b"abbccc" and len(chunks) >= 2  # node's writes arrive as separate chunks
    assert events[-1]["InvokeComplete"] == {}
    out = lam.invoke_with_response_stream(FunctionName=fname,
                                          Payload=json.dumps({"parts": ["partial"], "fail": True}))
    events = list(out["EventStream"])
    assert [e["PayloadChunk"]["Payload"] for e in events[:-1]] == [b"partial"]
    assert events[-1]["InvokeComplete"] == {"ErrorCode": "Error", "ErrorDetails": "stream broke"}


def test_chunks_reach_the_client_while_the_function_runs(lam: Any, fname: str, tmp_path: Path) -> None:
    _create(lam, fname, {"index.js": LIVE}, "index.handler")
    flag = tmp_path / "first-chunk-read"
    out = lam.invoke_with_response_stream(FunctionName=fname, Payload=json.dumps({"flag": str(flag)}))
    stream = iter(out["EventStream"])
    assert next(stream) == {"PayloadChunk": {"Payload": b"first"}}
    flag.touch()  # the function is still running: it waits for this file before its second write
    rest = list(stream)
    assert [e["PayloadChunk"]["Payload"] for e in rest[:-1]] == [b"seen"]
    assert rest[-1] == {"InvokeComplete": {}}


def test_response_stream_function_url(lam: Any, fname: str, aws_endpoint_url: str, tmp_path: Path) -> None:
    _create(lam, fname, {"index.js": URL_STREAM}, "index.handler")
    url = lam.create_function_url_config(FunctionName=fname, AuthType="NONE", InvokeMode="RESPONSE_STREAM",
                                         Cors={"AllowOrigins": ["*"]})["FunctionUrl"]
    endpoint = urlsplit(aws_endpoint_url)
    host = f"{urlsplit(url).hostname.split('.', 1)[0]}.lambda-url.us-east-1.localhost:{endpoint.port}"
    flag = tmp_path / "hello-read"
    conn = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=60)
    try:
        conn.request("GET", f"/live?flag={flag}", headers={"Host": host, "Origin": "https://x.example"})
        response = conn.getresponse()
        assert response.status == 201  # from the prelude HttpResponseStream.from wrote
        assert response.getheader("content-type") == "text/plain" and response.getheader("x-a") == "b"
        assert response.getheader("set-cookie") == "c=1"
        assert response.getheader("access-control-allow-origin") == "*"
        assert response.read(6) == b"hello "
        flag.touch()  # the function still runs: it waits for this file before its last write
        assert response.read() == b"seen"
        conn.request("GET", "/plain", headers={"Host": host})
        response = conn.getresponse()
        assert (response.status, response.getheader("content-type"), response.read()) == (200, "text/csv", b"a,b\n")
    finally:
        conn.close()


def test_no_node_is_an_invoke_error_not_a_create_error(tmp_path: Path) -> None:
    """A server whose PATH has no node: the function is created, its invoke fails clearly."""
    server = ServerProcess(env={"PATH": str(tmp_path), "AWSEMU_SERVICES": "lambda"})
    try:
        server.start()
        lam = make_client(server.endpoint, "lambda")
        _create(lam, "node-less", {"index.js": COMMONJS}, "index.handler")
        out, body = _invoke(lam, "node-less", {})
        assert out["FunctionError"] == "Unhandled"
        assert body["errorType"] == "Runtime.Unavailable"
        assert "nodejs20.x" in body["errorMessage"] and "node" in body["errorMessage"]
    finally:
        server.close()
