"""Invocations: synchronous (RequestResponse), asynchronous (Event, durable queue + retries), throttling.

Synchronous: take a warm environment of the version's key or cold-start one (pool.py), hand it the
event through the Runtime API, and wait for its answer on an asyncio future — no thread is held
while a handler runs. The answer becomes Invoke's output as Lambda shapes it:

- a response: status 200, the handler's JSON as Payload;
- an error posted by the runtime (handler exception, marshal error, init failure): status 200,
  ``FunctionError: Unhandled``, the runtime's error document as Payload;
- a timeout: the environment (its whole process group) is killed, Payload
  ``{"errorMessage": "<time> <request id> Task timed out after N.00 seconds"}``, Unhandled;
- the runtime process dying mid-invoke: ``Runtime.ExitError``, Unhandled.

``LogType=Tail`` returns the last 4 KB of the invocation's log (START line, what the handler wrote
to stdout/stderr, END and REPORT lines) base64-encoded, read from the environment's log file at the
offset it had when the invocation began (the runtime flushes before it answers).

Concurrency: each function counts its in-flight invocations; with reserved concurrency N, the
N+1-th concurrent invoke is refused with TooManyRequestsException (Reason
ReservedFunctionConcurrentInvocationLimitExceeded); N = 0 refuses every invoke.

Asynchronous: Invoke with ``InvocationType=Event`` stores the event under
``("lambda", "q", seq)`` in lsm before answering 202, so a queued event survives a restart; a
background task runs it and retries a failed run up to MaximumRetryAttempts (default 2) times,
after ``AWSEMU_LAMBDA_RETRY_SECONDS`` (default 1 s, doubling; Lambda waits about 1 then 2 minutes),
then deletes the record; an event older than MaximumEventAgeInSeconds is dropped too. Throttled runs
wait and retry without spending an attempt. How an event ended goes to its dead-letter queue or
destinations (delivery.py).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

from awsemu.services.base import ServiceError
from awsemu.services.lambda_ import interpreters, layers, node_runtime, sandbox
from awsemu.services.lambda_.errors import TooManyRequestsException, throttled
from awsemu.services.lambda_.functions import VersionConfig
from awsemu.services.lambda_.forking import EnvironmentFailed, EnvSpec
from awsemu.services.lambda_.pool import Pool
from awsemu.services.lambda_.provisioned_envs import ProvisionedEnvironments
from awsemu.services.lambda_.runtime_api import ChunkListener, NextEvent
from awsemu.storage.lsm.keycodec import encode, prefix_end

log = logging.getLogger("awsemu.lambda")

TAIL_BYTES = 4096
RunEvent = Callable[[dict[str, Any]], Awaitable["InvokeResult | None"]]
ReportEvent = Callable[[dict[str, Any], "InvokeResult | None"], Awaitable[None]]
MAX_RESPONSE = 6 * 1024 * 1024


DEFAULT_ACCOUNT = "000000000000"


def root_access_key(account: str) -> str:
    """The access key id of the account's root in awsemu (secret ``test``): ``test`` for the default
    account, the account id itself for others (auth/credentials.py accepts both in sigv4 and iam
    modes). Environments and awsemu's own calls to S3 and SQS sign with it; in AWS they would use the
    execution role's session credentials."""
    return "test" if account == DEFAULT_ACCOUNT else account


@dataclass
class Caller:
    """What an environment needs to know of the invoke: where awsemu is (the endpoint the client used)."""

    endpoint: str


@dataclass
class InvokeResult:
    payload: bytes
    executed_version: str
    function_error: str | None = None
    log_result: str | None = None
    error_type: str | None = None  # the runtime's error type (InvokeWithResponseStream's ErrorCode)
    chunks: list[bytes] | None = None  # how a streaming runtime cut its response


def _iso_now() -> str:
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def environment_variables(config: VersionConfig, task_root: str, caller: Caller,
                          runtime_dir: str | None = None) -> dict[str, str]:
    """The variables Lambda sets (users cannot override the reserved ones), plus the user's."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        **config.environment,
    }
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": config.name,
        "AWS_LAMBDA_FUNCTION_VERSION": config.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[{config.version}]{uuid.uuid4().hex}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start" if config.snap_start_on else "on-demand",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
        "_HANDLER": config.handler,
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": runtime_dir or task_root,
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_ACCESS_KEY_ID": root_access_key(config.account),
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_ENDPOINT_URL": caller.endpoint,
        "PYTHONUNBUFFERED": "1",
    })
    return env


def env_key(config: VersionConfig) -> tuple[str, str, str, str, str]:
    """Environments are shared only by invocations of the same version *and* revision."""
    return (config.account, config.region, config.name, config.version, config.revision_id)


class Invoker:
    """Runs invocations on the pool; counts concurrency; owns the durable event queue."""

    def __init__(self, pool: Pool, prepare_code: Callable[[VersionConfig], Awaitable[tuple[str, Any]]],
                 db: Any, retry_seconds: float = 1.0, provisioned_max: int | None = None) -> None:
        self.pool = pool
        self.prepare_code = prepare_code
        self.db = db
        self.retry_seconds = retry_seconds
        self.inflight: dict[tuple[str, str, str], int] = {}
        self._event_tasks: set[asyncio.Task[None]] = set()
        self._seq = 0
        self.provisioned = ProvisionedEnvironments(
            pool, lambda config, endpoint: self._spec(config, Caller(endpoint), ""), provisioned_max)

    # -- synchronous -------------------------------------------------------------------------
    async def invoke(self, config: VersionConfig, reserved: int | None, payload: bytes, caller: Caller, *,
                     invoked_arn: str, tail: bool = False, client_context: str | None = None,
                     on_chunk: ChunkListener | None = None) -> InvokeResult:
        """Run one invocation; ``on_chunk`` hears a streaming runtime's chunks as they arrive."""
        fn = (config.account, config.region, config.name)
        running = self.inflight.get(fn, 0)
        if reserved is not None and running >= reserved:
            raise throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
        self.inflight[fn] = running + 1
        try:
            return await self._run(config, payload, caller, invoked_arn, tail, client_context, on_chunk)
        finally:
            left = self.inflight[fn] - 1
            if left:
                self.inflight[fn] = left
            else:
                del self.inflight[fn]

    async def _run(self, config: VersionConfig, payload: bytes, caller: Caller, invoked_arn: str,
                   tail: bool, client_context: str | None,
                   on_chunk: ChunkListener | None = None) -> InvokeResult:
        request_id = str(uuid.uuid4())
        key = env_key(config)
        started = time.monotonic()
        env = self.pool.take_idle(key)
        init_ms = None  # an on-demand cold start: its REPORT line shows the init's duration
        if env is None:
            spec = await self._spec(config, caller, request_id)
            if isinstance(spec, InvokeResult):
                return spec
            template = None
            if config.snap_start_on:
                template = await self.pool.snapshot(key, spec)
                if template is None:  # no snapshot (its init failed, or no fork server): a plain init
                    spec.env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
            try:
                env = await self.pool.start_environment(key, spec, template)
            except EnvironmentFailed as failure:
                body = failure.body or json.dumps(
                    {"errorMessage": failure.message.replace("{id}", request_id), "errorType": failure.error_type}
                ).encode()
                return InvokeResult(body, config.version, "Unhandled",
                                    self._tail(config, request_id, b"", started, "") if tail else None,
                                    error_type=failure.error_type)
            if template is None:
                init_ms = env.init_ms
        log_start = env.log_size() if tail else 0
        deadline_ms = int(time.time() * 1000) + config.timeout * 1000
        trace_id = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"
        answer_future = env.dispatch(NextEvent(request_id, payload, deadline_ms, invoked_arn, trace_id, client_context),
                                     on_chunk)
        extra = ""
        try:
            answer = await asyncio.wait_for(answer_future, config.timeout)
        except asyncio.CancelledError:
            self.pool.discard(env)  # the caller went away mid-invoke: this environment is in an unknown state
            raise
        except asyncio.TimeoutError:
            self.pool.discard(env)
            message = f"{_iso_now()} {request_id} Task timed out after {config.timeout:.2f} seconds"
            extra = message + "\n"
            result = InvokeResult(json.dumps({"errorMessage": message}).encode(), config.version, "Unhandled",
                                  error_type="Sandbox.Timedout")
        except EnvironmentFailed as failure:
            self.pool.discard(env)
            message = failure.message.replace("{id}", request_id)
            extra = message + "\n"
            result = InvokeResult(json.dumps({"errorType": failure.error_type, "errorMessage": message}).encode(),
                                  config.version, "Unhandled", error_type=failure.error_type)
        else:
            if answer.error_type is not None:
                result = InvokeResult(answer.body, config.version, "Unhandled", error_type=answer.error_type,
                                      chunks=answer.chunks)
            elif len(answer.body) > MAX_RESPONSE:
                result = InvokeResult(json.dumps({
                    "errorMessage": f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }).encode(), config.version, "Unhandled", error_type="Function.ResponseSizeTooLarge")
            else:
                result = InvokeResult(answer.body, config.version, chunks=answer.chunks)
            self.pool.release(env)
        if tail:
            result.log_result = self._tail(config, request_id, env.read_log(log_start, TAIL_BYTES), started, extra,
                                           env.pid, init_ms)
        return result

    async def _spec(self, config: VersionConfig, caller: Caller, request_id: str) -> "EnvSpec | InvokeResult":
        """How to start an environment of ``config`` (or the error its runtime cannot start with).

        In a sandbox (sandbox.py) the environment sees its code at /var/task and its layers at /opt;
        otherwise it sees the host's directories of both."""
        code_dir, opt_dir = await self.prepare_code(config)
        try:
            box = await self.pool.isolation()
        except EnvironmentFailed as failure:
            return InvokeResult(json.dumps({"errorMessage": failure.message, "errorType": failure.error_type}).encode(),
                                config.version, "Unhandled", error_type=failure.error_type)
        task_root = code_dir if box is None else sandbox.TASK_ROOT
        opt = opt_dir if box is None or opt_dir is None else Path(sandbox.OPT)
        argv = None
        interpreter = None
        if config.runtime in node_runtime.NODE_RUNTIMES:
            argv = await asyncio.to_thread(node_runtime.argv_for, config.runtime,
                                           self.pool.envs_dir.parent / "runtimes", config.memory_size)
            if argv is not None and box is not None:  # the client script as the sandbox sees it
                argv[-1] = f"{sandbox.RUNTIMES}/{Path(argv[-1]).name}"
            if argv is None:
                error_type, message = node_runtime.UNAVAILABLE
                return InvokeResult(json.dumps({
                    "errorMessage": message.format(runtime=config.runtime), "errorType": error_type,
                }).encode(), config.version, "Unhandled", error_type=error_type)
        elif config.is_python:
            interpreter = await self.pool.interpreter_for(config.runtime)
        else:
            argv = [_bootstrap(code_dir, opt_dir)]
            if argv[0] and box is not None:
                argv = [(sandbox.TASK_ROOT if argv[0].startswith(code_dir + os.sep) else sandbox.OPT) + "/bootstrap"]
            if not argv[0]:
                return InvokeResult(json.dumps({
                    "errorMessage": f"RequestId: {request_id} Error: Couldn't find valid bootstrap(s): "
                                    "[/var/task/bootstrap /opt/bootstrap]",
                    "errorType": "Runtime.InvalidEntrypoint",
                }).encode(), config.version, "Unhandled", error_type="Runtime.InvalidEntrypoint")
        variables = environment_variables(config, task_root, caller, sandbox.RUNTIME_DIR if box else None)
        if argv is not None and config.runtime in node_runtime.NODE_RUNTIMES and opt is not None:
            variables["NODE_PATH"] = node_runtime.node_path(opt) or ""
        paths = [task_root]
        if opt is not None:
            where = layers.runtime_paths(opt, interpreters.runtime_version(config.runtime))
            paths += where["sys.path"]
            for name in ("PATH", "LD_LIBRARY_PATH"):
                variables[name] = os.pathsep.join(where[name] + ([variables[name]] if variables.get(name) else []))
            variables["AWSEMU_LAMBDA_OPT"] = str(opt)
        return EnvSpec(variables, task_root, config.memory_size, argv=argv, paths=paths, interpreter=interpreter,
                       code_dir=code_dir, opt_dir=str(opt_dir) if opt_dir is not None else None,
                       tmp_mb=config.ephemeral_storage)

    async def snapshot(self, config: VersionConfig, caller: Caller) -> None:
        """SnapStart at PublishVersion: run the version's init once, in its template."""
        spec = await self._spec(config, caller, "")
        if isinstance(spec, EnvSpec):
            await self.pool.snapshot(env_key(config), spec)

    def _tail(self, config: VersionConfig, request_id: str, logs: bytes, started: float, extra: str,
              pid: int = 0, init_ms: float | None = None) -> str:
        duration = max(0.0, (time.monotonic() - started) * 1000 - (init_ms or 0))
        used = _max_memory_mb(pid) if pid else 0
        init = f"Init Duration: {init_ms:.2f} ms\t" if init_ms is not None else ""
        text = (
            f"START RequestId: {request_id} Version: {config.version}\n".encode()
            + logs
            + extra.encode()
            + f"END RequestId: {request_id}\n".encode()
            + (f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: "
               f"{int(duration) + 1} ms\tMemory Size: {config.memory_size} MB\tMax Memory Used: {used} MB\t"
               f"{init}\n").encode()
        )
        return base64.b64encode(text[-TAIL_BYTES:]).decode()

    # -- asynchronous (Event) ------------------------------------------------------------------
    def enqueue_ops(self, record: dict[str, Any]) -> tuple[bytes, bytes]:
        self._seq += 1
        key = encode("lambda", "q", time.time_ns(), self._seq)
        return key, json.dumps(record).encode()

    def schedule(self, key: bytes, record: dict[str, Any], run: RunEvent, report: ReportEvent) -> None:
        """Run a queued event in the background: ``run`` invokes it, ``report`` is told how it ended
        (the last result, or None when it was dropped) once no retry is left."""
        task = asyncio.ensure_future(self._run_event(key, record, run, report))
        self._event_tasks.add(task)
        task.add_done_callback(self._event_tasks.discard)

    def queued(self) -> list[tuple[bytes, dict[str, Any]]]:
        start = encode("lambda", "q")
        end = prefix_end(start)
        return [(k, json.loads(v)) for k, v in self.db.scan(start, end)]

    async def _run_event(self, key: bytes, record: dict[str, Any], run: RunEvent, report: ReportEvent) -> None:
        delay = self.retry_seconds
        while True:
            try:
                result = await run(record)
            except TooManyRequestsException:
                if time.time() + delay > record.get("expires_at", float("inf")):
                    log.warning("async invocation %s dropped: throttled until MaximumEventAge",
                                record.get("request_id"))
                    await asyncio.to_thread(self.db.delete, key)
                    return
                await asyncio.sleep(delay)
                continue
            except asyncio.CancelledError:
                raise
            except ServiceError as exc:  # the function (or its alias) was deleted meanwhile
                log.warning("async invocation %s dropped: %s", record.get("request_id"), exc.message)
                result = None
            except Exception:  # noqa: BLE001 - a bug must not kill the queue: log and drop the event
                log.exception("async invocation %s failed", record.get("request_id"))
                result = None
            failed = result is not None and result.function_error is not None
            expired = time.time() + delay > record.get("expires_at", float("inf"))
            if not failed or record["attempts"] >= record["max_attempts"] or expired:
                try:
                    await report(record, result)
                except Exception:  # noqa: BLE001 - a missing queue must not keep the event forever
                    log.exception("reporting async invocation %s failed", record.get("request_id"))
                await asyncio.to_thread(self.db.delete, key)
                return
            record["attempts"] += 1
            await asyncio.to_thread(self.db.put, key, json.dumps(record).encode())
            await asyncio.sleep(delay)
            delay *= 2

    def cancel_events(self) -> None:
        for task in list(self._event_tasks):
            task.cancel()


def _bootstrap(task_root: str, opt: Any) -> str:
    """The custom runtime's entry point: ``bootstrap`` of the package, else of a layer ("" if none)."""
    for folder in (task_root, str(opt) if opt is not None else None):
        if folder and os.path.isfile(os.path.join(folder, "bootstrap")):
            return os.path.join(folder, "bootstrap")
    return ""


def _max_memory_mb(pid: int) -> int:
    pid = _sandboxed_process(pid)
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError):
        pass
    return 0


def _sandboxed_process(pid: int) -> int:
    """The runtime behind a ``bwrap`` process (node and custom runtimes in the sandbox), else ``pid``."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() != "bwrap":
                return pid
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = f.read().split()
        return int(children[0]) if children else pid
    except (OSError, ValueError):
        return pid
