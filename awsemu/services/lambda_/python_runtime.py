"""The Python runtime *inside* an execution environment: the Lambda Runtime API client loop.

This module runs in the environment process, not in the awsemu server: it imports only the standard
library, because the fork server (fork_server.py) imports it before forking and the environment must
not carry awsemu's state. It does what AWS's Python runtime interface client does:

1. init: import the handler module named by ``_HANDLER`` (``module.function``, dots in the module
   path allowed) from ``LAMBDA_TASK_ROOT``; on failure POST ``/runtime/init/error`` with AWS's error
   types (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound``, ``Runtime.MalformedHandlerName``,
   ``Runtime.UserCodeSyntaxError``) and exit;
2. loop: ``GET /invocation/next`` (long poll), call ``handler(event, context)``, POST the JSON result
   to ``/invocation/{id}/response`` or the error document to ``/invocation/{id}/error``.

One keep-alive HTTP connection with TCP_NODELAY carries every request, so a warm invoke costs two
small round trips on the loopback. stdout/stderr are flushed before each answer: the server reads the
invocation's log lines right after it gets the answer. :func:`limit_memory` applies MemorySize
(the fork server calls it in each child; a plain interpreter start calls it in ``__main__``).
"""

from __future__ import annotations

import ctypes
import http.client
import importlib
import json
import os
import resource
import socket
import sys
import time
import traceback
from typing import Any, Callable

import snapshot_restore_py  # SnapStart's runtime hooks module, importable by handlers (in sys.modules)

API_PREFIX = "/2018-06-01/runtime"
M_ARENA_MAX = -8
SLACK_BYTES = 256 * 1024 * 1024


def limit_memory(memory_mb: int) -> None:
    """RLIMIT_AS = address space already mapped + the function's memory + slack.

    The interpreter and the preloaded modules are mapped already (shared, copy-on-write pages), so
    the handler gets MemorySize on top. Address space is not resident memory: thread stacks and
    malloc arenas reserve more than they use, hence the slack, and at most two malloc arenas. An
    allocation past the limit raises MemoryError in the handler, where Lambda would kill the
    environment: an approximation, not Lambda's cgroup accounting.
    """
    try:
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[0])
        current = pages * os.sysconf("SC_PAGE_SIZE")
        limit = current + memory_mb * 1024 * 1024 + SLACK_BYTES
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError):
        pass


class RuntimeApi:
    """A keep-alive HTTP/1.1 client of the Runtime API (one connection, reopened if it drops)."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.host, self.port = host or "127.0.0.1", int(port)
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            conn = http.client.HTTPConnection(self.host, self.port)
            conn.connect()
            assert conn.sock is not None
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conn = conn
        return self.conn

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = self._connection()
        try:
            conn.request(method, API_PREFIX + path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn = None
            conn.close()
            raise
        return resp.status, resp.headers, data


class LambdaContext:
    """The ``context`` argument, with the attributes and method AWS's Python runtime provides."""

    def __init__(self, request_id: str, deadline_ms: int, arn: str, client_context: Any) -> None:
        self.aws_request_id = request_id
        self._deadline_ms = deadline_ms
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.client_context = client_context
        self.identity = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def error_document(exc: BaseException, error_type: str | None = None, request_id: str = "") -> dict[str, Any]:
    """AWS's error payload: errorMessage, errorType, requestId, stackTrace (frames of user code)."""
    frames = traceback.extract_tb(exc.__traceback__)
    user_frames = [f for f in frames if f.filename != __file__]
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(user_frames),
    }


BEFORE_SNAPSHOT_ERROR = "Runtime.BeforeSnapshotError"
AFTER_RESTORE_ERROR = "Runtime.AfterRestoreError"


class HookError(Exception):
    """A SnapStart runtime hook raised ``cause``."""

    def __init__(self, cause: BaseException, error_type: str) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.error_type = error_type


class InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def load_handler(spec: str) -> Callable[[Any, Any], Any]:
    """``"pkg.module.function"`` -> the function, raising :class:`InitError` as AWS words it."""
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        raise InitError("Runtime.MalformedHandlerName",
                        f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        raise InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from None
    handler = getattr(module, function_name, None)
    if handler is None:
        raise InitError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return handler  # type: ignore[no-any-return]


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _log_error(doc: dict[str, Any]) -> None:
    trace = "".join(doc.get("stackTrace") or [])
    print(f"[ERROR] {doc['errorType']}: {doc['errorMessage']}\nTraceback (most recent call last):\n{trace}",
          file=sys.stderr, end="")


def main(loaded: Callable[[Any, Any], Any] | None = None) -> None:
    """Run the environment until the server goes away (connection refused or reset); ``loaded`` is
    the handler when init already ran (a SnapStart environment forked from its version's template:
    its after-restore hooks run first, snapshot_restore_py.py)."""
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    json_headers = {"Content-Type": "application/json"}
    try:
        handler = loaded or load_handler(os.environ.get("_HANDLER", ""))
        if loaded is not None:
            try:
                snapshot_restore_py.run_after_restore()
            except Exception as exc:  # noqa: BLE001 - a failing hook fails the restore, as on Lambda
                raise HookError(exc, AFTER_RESTORE_ERROR) from exc
    except HookError as exc:
        doc = error_document(exc.cause, exc.error_type)
        _log_error(doc)
        _flush()
        api.request("POST", "/init/error", json.dumps(doc).encode(),
                    {**json_headers, "Lambda-Runtime-Function-Error-Type": exc.error_type})
        return
    except InitError as exc:
        doc = {"errorMessage": str(exc), "errorType": exc.error_type, "requestId": "", "stackTrace": []}
        _log_error(doc)
        _flush()
        api.request("POST", "/init/error", json.dumps(doc).encode(),
                    {**json_headers, "Lambda-Runtime-Function-Error-Type": exc.error_type})
        return
    except Exception as exc:  # an exception raised by the module's own top-level code
        doc = error_document(exc)
        _log_error(doc)
        _flush()
        api.request("POST", "/init/error", json.dumps(doc).encode(),
                    {**json_headers, "Lambda-Runtime-Function-Error-Type": "Runtime.Unknown"})
        return
    while True:
        try:
            _, headers, body = api.request("GET", "/invocation/next")
        except (OSError, http.client.HTTPException):
            return  # the server stopped or retired this environment
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        trace_id = headers.get("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        raw_client_context = headers.get("Lambda-Runtime-Client-Context")
        context = LambdaContext(
            request_id,
            int(headers.get("Lambda-Runtime-Deadline-Ms", "0") or 0),
            headers.get("Lambda-Runtime-Invoked-Function-Arn", ""),
            json.loads(raw_client_context) if raw_client_context else None,
        )
        try:
            event = json.loads(body) if body else {}
            result = handler(event, context)
        except Exception as exc:
            doc = error_document(exc, request_id=request_id)
            _log_error(doc)
            _flush()
            api.request("POST", f"/invocation/{request_id}/error", json.dumps(doc).encode(),
                        {**json_headers, "Lambda-Runtime-Function-Error-Type": doc["errorType"]})
            continue
        try:
            answer = json.dumps(result).encode()
        except (TypeError, ValueError) as exc:
            doc = {"errorMessage": f"Unable to marshal response: {exc}", "errorType": "Runtime.MarshalError",
                   "requestId": request_id, "stackTrace": []}
            _log_error(doc)
            _flush()
            api.request("POST", f"/invocation/{request_id}/error", json.dumps(doc).encode(),
                        {**json_headers, "Lambda-Runtime-Function-Error-Type": "Runtime.MarshalError"})
            continue
        _flush()
        api.request("POST", f"/invocation/{request_id}/response", answer, json_headers)


if __name__ == "__main__":  # a plain interpreter start (the benchmark's baseline, or no fork server)
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    limit_memory(int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")))
    main()
