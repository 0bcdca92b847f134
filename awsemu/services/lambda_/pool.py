"""Execution environments: how they start (fork server), live (warm reuse), and end (reaping, kills).

An :class:`Environment` is one local process bound to one function version and configuration (its
``key``), plus the Runtime API endpoint it talks to (runtime_api.py). It is *warm* between
invocations: the process stays, and with it the handler module's globals and its ``/tmp`` (a
tmpfs of its own in the sandbox; as plain processes ``TMPDIR``, a private directory). The
:class:`Pool` keeps idle environments per key, hands one to each invocation (or starts one: a cold
start), takes it back afterwards, and kills

- environments idle longer than ``idle_seconds`` (``AWSEMU_LAMBDA_IDLE_SECONDS``, default 300),
- an environment whose invocation timed out (the whole process group: its children die too),
- every environment of a function whose code or configuration changed (``retire``).

Cold starts go through a :class:`ForkServer` (fork_server.py): a long-lived interpreter that
has already imported the runtime loop and boto3 forks each new environment, so a cold start costs
a fork and a handler import. There is one fork server per interpreter: ``python3.N`` functions run
on a matching Python when one is installed (interpreters.py), custom runtimes on the server's.
SnapStart versions have a :class:`Template` each (forking.py): forked from the fork server, it ran
the function's init once (at PublishVersion) and forks that version's environments; it is retired
with its function's environments and ends with its last one (the next cold start makes a new one).
``AWSEMU_LAMBDA_FORK_SERVER=0`` starts a plain interpreter per environment (no SnapStart). Custom
runtimes (``provided.*``) are forked and then ``exec`` their ``bootstrap``. Environments kept for
provisioned concurrency (``provisioned``, provisioned_envs.py) are never reaped for idleness.

In the bubblewrap sandbox (sandbox.py, decided once in the background: :meth:`Pool.isolation`)
each interpreter has one sandboxed fork server for every function, prewarmed like the plain one;
each environment it forks mounts its own code, layers and /tmp (fork_server.own_code). Where the
host allows no mount namespace per fork, there is one per (interpreter, code, layers) instead,
closed when unused (forking.SandboxedServers keeps both kinds). Environments' folders (log files)
live under their fork server's folder, the only host folder it can write. Node and custom runtimes
start one ``bwrap`` process per environment instead (no fork server), with the same view.

Everything here runs on the server's event loop; nothing blocks it but a ``stat`` or a ``kill``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sys
import time
import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable

from awsemu.services.lambda_ import interpreters, sandbox
from awsemu.services.lambda_.forking import (
    FORK_SERVER_SCRIPT,
    EnvironmentFailed,
    EnvSpec,
    ForkServer,
    SandboxedServers,
    Template,
    message_of,
    signal_name,
)
from awsemu.services.lambda_.sandbox import Sandbox, SandboxUnavailable
from awsemu.services.lambda_.runtime_api import ChunkListener, NextEvent, RuntimeApiServer

log = logging.getLogger("awsemu.lambda")

HERE = Path(__file__).resolve().parent
PYTHON_RUNTIME_SCRIPT = HERE / "python_runtime.py"
INIT_TIMEOUT_S = 10.0  # Lambda's limit for the init phase of on-demand functions


@dataclass
class Answer:
    """What the runtime posted for an invocation: ``error_type`` is None for a response."""

    body: bytes
    error_type: str | None = None
    chunks: list[bytes] | None = None  # a streamed response's chunks (the body is their concatenation)


class Environment:
    """One execution environment: its process, its Runtime API endpoint, its current invocation."""

    def __init__(self, key: Hashable, env_dir: Path) -> None:
        loop = asyncio.get_running_loop()
        self.id = uuid.uuid4().hex
        self.key = key
        self.dir = env_dir
        self.log_path = env_dir / "log"
        self.tmp_dir = env_dir / "tmp"
        self.pid = 0
        self.api = RuntimeApiServer(self)
        self.ready: asyncio.Future[None] = loop.create_future()
        self.dead = False
        self.retired = False
        self.forked_by: ForkServer | None = None  # the fork server or template that forked it
        self.last_used = time.monotonic()
        self.provisioned = False  # kept warm for provisioned concurrency (provisioned_envs.py): never reaped
        self.init_ms = 0.0  # how long its init took (the REPORT line's Init Duration of its first invoke)
        self._pending: NextEvent | None = None
        self._waiter: asyncio.Future[NextEvent] | None = None
        self._current: tuple[str, asyncio.Future[Answer]] | None = None
        self._on_chunk: ChunkListener | None = None  # the current invocation's stream listener

    # -- the Runtime API side (runtime_api.RuntimeHandler) ----------------------------------
    async def next_event(self) -> NextEvent:
        if not self.ready.done():
            self.ready.set_result(None)
        if self._pending is not None:
            event, self._pending = self._pending, None
            return event
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            return await self._waiter
        finally:
            self._waiter = None

    def _answer(self, request_id: str, answer: Answer) -> bool:
        if self._current is None or self._current[0] != request_id:
            return False
        future = self._current[1]
        if not future.done():
            future.set_result(answer)
        return True

    def invocation_response(self, request_id: str, body: bytes, chunks: list[bytes] | None = None) -> bool:
        return self._answer(request_id, Answer(body, None, chunks))

    def invocation_error(self, request_id: str, body: bytes, error_type: str,
                         chunks: list[bytes] | None = None) -> bool:
        return self._answer(request_id, Answer(body, error_type, chunks))

    def invocation_chunk(self, request_id: str, chunk: bytes, content_type: str) -> "Awaitable[None] | None":
        return self._on_chunk(chunk, content_type) if self.streams_live(request_id) else None  # type: ignore[misc]

    def streams_live(self, request_id: str) -> bool:
        return self._current is not None and self._current[0] == request_id and self._on_chunk is not None

    def init_error(self, body: bytes, error_type: str) -> None:
        failure = EnvironmentFailed(error_type, message_of(body) or error_type, body)
        if not self.ready.done():
            self.ready.set_exception(failure)
        elif self._current is not None and not self._current[1].done():
            self._current[1].set_exception(failure)

    # -- the pool side -----------------------------------------------------------------------
    def dispatch(self, event: NextEvent, on_chunk: ChunkListener | None = None) -> asyncio.Future[Answer]:
        """Hand ``event`` to the runtime (now if it is polling, else at its next poll); ``on_chunk``
        hears a streamed response's chunks as they arrive."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._current = (event.request_id, future)
        self._on_chunk = on_chunk
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(event)
        else:
            self._pending = event
        return future

    def finish(self) -> None:
        self._current = None
        self._on_chunk = None

    def exited(self, status: int) -> None:
        """The process ended: fail whoever waits on it."""
        if self.dead:
            return
        self.dead = True
        reason = f"signal: {signal_name(-status)}" if status < 0 else f"exit status {status}"
        failure = EnvironmentFailed("Runtime.ExitError", f"RequestId: {{id}} Error: Runtime exited with error: {reason}")
        if not self.ready.done():
            self.ready.set_exception(failure)
            self.ready.exception()  # nobody may be waiting any more: mark it retrieved
        if self._current is not None and not self._current[1].done():
            self._current[1].set_exception(failure)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.cancel()
        self.api.close()

    def kill(self) -> None:
        if self.pid and not self.dead:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            except PermissionError:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def read_log(self, start: int, at_most: int) -> bytes:
        """The last ``at_most`` bytes written since offset ``start``."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(start, f.seek(0, os.SEEK_END) - at_most))
                return f.read(at_most)
        except OSError:
            return b""


def _log_failure(future: "asyncio.Future[None]") -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("the Lambda fork server did not start: %s", future.exception())


def _close_template(future: "asyncio.Future[Template | None]") -> None:
    if not future.cancelled() and future.exception() is None and future.result() is not None:
        future.result().close_now()  # type: ignore[union-attr]


class Pool:
    """Idle environments per key, cold starts, reaping. One per provider, on the event loop."""

    def __init__(self, envs_dir: Path, idle_seconds: float, use_fork_server: bool = True,
                 sandbox_mode: str = "none", sandbox_share: str = "") -> None:
        self.envs_dir = envs_dir
        self.idle_seconds = idle_seconds
        self.use_fork_server = use_fork_server
        self.sandbox_mode = sandbox_mode
        self.sandbox_share = sandbox_share
        self._isolation: asyncio.Future[Sandbox | None] | None = None  # sandbox.detect, run once
        self.sandboxed = SandboxedServers(envs_dir, self._exited, self._fork_server_lost)
        self._template_starts: set[Template] = set()  # SnapStart templates running their init
        self.fork_server = ForkServer(self._exited, self._fork_server_lost)  # the server's interpreter
        self.fork_servers: dict[str, ForkServer] = {sys.executable: self.fork_server}
        self.interpreters: dict[str, asyncio.Future[str]] = {}  # runtime -> interpreter (resolved once)
        self._sdk: list[str | None] = []  # interpreters.sdk_dir, made once
        self._versions: dict[str, str] = {}  # interpreter -> its Python version ("3.12")
        self.templates: dict[Hashable, asyncio.Future[Template | None]] = {}  # SnapStart, per version key
        self.idle: dict[Hashable, list[Environment]] = {}
        self.by_pid: dict[int, Environment] = {}
        self.all: set[Environment] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._children: set[asyncio.Task[None]] = set()
        self._prewarm: asyncio.Future[None] | None = None
        # exits reported before the spawn's own reply was handled (a runtime that dies at once)
        self._early_exits: dict[int, int] = {}

    # -- isolation (sandbox.py) -------------------------------------------------------------------
    def detect_isolation(self) -> None:
        """Decide (in the background, once) whether environments run in a sandbox; it logs the answer."""
        if self._isolation is None:
            self._isolation = asyncio.ensure_future(asyncio.to_thread(
                sandbox.detect, self.sandbox_mode, self.envs_dir.parent / "runtimes", self.sandbox_share))
            self._isolation.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved below

    async def isolation(self) -> Sandbox | None:
        """The sandbox environments start in (None: plain processes); raises EnvironmentFailed when
        AWSEMU_LAMBDA_SANDBOX=bwrap and bubblewrap cannot run."""
        self.detect_isolation()
        assert self._isolation is not None
        try:
            return await asyncio.shield(self._isolation)
        except SandboxUnavailable as exc:
            raise EnvironmentFailed("Runtime.Unavailable", str(exc)) from None

    def prewarm(self, runtime: str | None = None) -> None:
        """Start the fork server in the background (a function exists: invokes will come), and the
        one of ``runtime``'s interpreter when that is another Python (sandboxed or not; not the
        sandboxed ones per function code: those start at their code's first cold start)."""
        self.detect_isolation()
        if self.use_fork_server and self._prewarm is None:
            self._prewarm = asyncio.ensure_future(self._prewarm_server(None))
            self._prewarm.add_done_callback(_log_failure)
        other_python = runtime is not None and interpreters.runtime_version(runtime) is not None
        if self.use_fork_server and other_python and runtime not in self.interpreters:
            assert runtime is not None
            asyncio.ensure_future(self._prewarm_server(runtime)).add_done_callback(_log_failure)

    async def _prewarm_server(self, runtime: str | None) -> None:
        try:
            box = await self.isolation()
        except EnvironmentFailed:
            return
        interpreter = sys.executable if runtime is None else await self.interpreter_for(runtime)
        if box is None:
            await self._fork_server_for(interpreter).ensure_started()
        elif box.per_child_code:
            await self._sandboxed_for(box, interpreter, None, None).ensure_started()

    async def interpreter_for(self, runtime: str) -> str:
        """The Python that runs ``runtime`` (looked up once per runtime, off the event loop)."""
        found = self.interpreters.get(runtime)
        if found is None:
            found = self.interpreters[runtime] = asyncio.ensure_future(asyncio.to_thread(interpreters.resolve, runtime))
        interpreter = await asyncio.shield(found)
        self._versions.setdefault(interpreter, interpreters.runtime_version(runtime) or "")
        return interpreter

    def _sdk_dir(self, interpreter: str) -> str | None:
        """The server's SDK for ``interpreter`` (None for the server's own, or a Python it does not support)."""
        version = self._versions.get(interpreter)
        if interpreter == sys.executable or not version or not interpreters.sdk_supports(version):
            return None
        if not self._sdk:
            self._sdk.append(interpreters.sdk_dir(self.envs_dir.parent / "runtimes"))
        return self._sdk[0]

    def _fork_server_for(self, interpreter: str) -> ForkServer:
        server = self.fork_servers.get(interpreter)
        if server is None:
            argv = [interpreter, str(FORK_SERVER_SCRIPT)]
            sdk = self._sdk_dir(interpreter)
            if sdk:
                argv += ["--sdk", sdk]
            server = self.fork_servers[interpreter] = ForkServer(self._exited, self._fork_server_lost, argv)
        return server

    async def _server_for(self, spec: EnvSpec) -> ForkServer:
        """The fork server that forks ``spec``'s environments: the interpreter's, sandboxed or not, or
        where environments cannot mount their own code, the sandboxed one of (interpreter, code, layers)."""
        interpreter = spec.interpreter or sys.executable
        box = await self.isolation()
        if box is None:
            return self._fork_server_for(interpreter)
        if box.per_child_code:
            return self._sandboxed_for(box, interpreter, None, None)
        return self._sandboxed_for(box, interpreter, spec.code_dir, spec.opt_dir, spec.tmp_mb)

    def _sandboxed_for(self, box: Sandbox, interpreter: str, code: str | None, opt: str | None,
                       tmp_mb: int = 512) -> ForkServer:
        server, new = self.sandboxed.get(box, interpreter, self._sdk_dir(interpreter), code, opt, tmp_mb)
        if new:
            self._reap_sandboxed(time.monotonic() - self.idle_seconds)  # keep their number bounded
        return server

    def _reap_sandboxed(self, cutoff: float) -> None:
        """Close sandboxed fork servers of one code that fork nothing any more (SandboxedServers.reap)."""
        busy: set[Any] = {env.forked_by for env in self.all if not env.dead}
        busy |= {t.parent for t in busy if isinstance(t, Template)}
        busy |= {f.result().parent for f in self.templates.values()
                 if f.done() and not f.cancelled() and f.exception() is None and f.result() is not None}
        busy |= {t.parent for t in self._template_starts}
        self.sandboxed.reap(busy, cutoff)

    # -- SnapStart templates -------------------------------------------------------------------
    def snapshot(self, key: Hashable, spec: EnvSpec) -> "asyncio.Future[Template | None]":
        """The template of version ``key`` (started now unless it exists): resolves to None when its
        init failed or the fork server is off (then environments init on their own, as before)."""
        future = self.templates.get(key)
        if future is None:
            future = self.templates[key] = asyncio.ensure_future(self._start_template(key, spec))
        return future

    async def _start_template(self, key: Hashable, spec: EnvSpec) -> Template | None:
        if not self.use_fork_server:
            return None
        parent = await self._server_for(spec)
        folder = parent.view.host if parent.view is not None else self.envs_dir
        template = Template(self._exited, self._template_lost, parent, spec, folder / uuid.uuid4().hex)
        self._template_starts.add(template)  # its fork server is in use (_reap_sandboxed)
        try:
            await template.ensure_started()
        except Exception as exc:  # noqa: BLE001 - any failure only costs the snapshot, not the invoke
            log.warning("SnapStart init of %s failed (%s): its environments init on their own", key, exc)
            template.close_now()
            if self.templates.get(key) is asyncio.current_task():
                self.templates.pop(key, None)
            return None
        finally:
            self._template_starts.discard(template)
        log.info("SnapStart template of %s ready (pid %d)", key, template.template_pid)
        return template

    def _template_lost(self, template: Template) -> None:
        for key, future in list(self.templates.items()):
            if future.done() and not future.cancelled() and future.result() is template:
                del self.templates[key]  # the next cold start of that version makes a new one
        self._fork_server_lost(template)
        template.close_now()

    def _drop_templates(self, match: Any) -> None:
        """Forget the templates of matching keys; each ends once its last environment has ended (its
        environments die with it: a busy one must finish its invocation first)."""
        for key in [k for k in self.templates if match(k)]:
            self.templates.pop(key).add_done_callback(self._retire_template)

    def _retire_template(self, future: "asyncio.Future[Template | None]") -> None:
        if future.cancelled() or future.exception() is not None or future.result() is None:
            return
        template = future.result()
        assert template is not None
        template.retiring = True
        self._close_if_unused(template)

    def _close_if_unused(self, template: Template) -> None:
        if template.retiring and not any(env.forked_by is template and not env.dead for env in self.all):
            template.close_now()

    # -- acquiring ---------------------------------------------------------------------------
    def take_idle(self, key: Hashable) -> Environment | None:
        stack = self.idle.get(key)
        while stack:
            env = stack.pop()  # most recently used first: its caches are warmest
            if not env.dead:
                return env
        return None

    async def start_environment(self, key: Hashable, spec: EnvSpec, template: Template | None = None) -> Environment:
        """A cold start: spawn (from ``template`` when given: init already ran), then wait until the
        runtime polls ``next`` (or fails its init)."""
        self._ensure_reaper()
        box = await self.isolation()
        server = None
        if template is None and self.use_fork_server and (spec.argv is None or box is None):
            server = await self._server_for(spec)  # sandboxed node and bootstraps start their own bwrap
        forker = template or server
        folder = forker.view.host if forker is not None and forker.view is not None else self.envs_dir
        env = Environment(key, folder / uuid.uuid4().hex)
        env.forked_by = forker  # from now on: the reaper must see its fork server is in use
        self.all.add(env)
        try:
            address = await env.api.start()
            spec.env = {**spec.env, "AWS_LAMBDA_RUNTIME_API": address}
            if box is None:  # a sandbox has a /tmp of its own
                env.tmp_dir.mkdir(parents=True)
                spec.env["TMPDIR"] = str(env.tmp_dir)
            else:
                env.dir.mkdir(parents=True)
            if forker is not None:
                env.pid = await forker.spawn(spec, env.dir)
            else:
                env.pid = await self._spawn_plain(env, spec)
            self.by_pid[env.pid] = env
            if env.pid in self._early_exits:
                self._exited(env.pid, self._early_exits.pop(env.pid))
            await asyncio.wait_for(asyncio.shield(env.ready), INIT_TIMEOUT_S)
            env.init_ms = (time.monotonic() - env.last_used) * 1000
        except asyncio.TimeoutError:
            self.discard(env)
            raise EnvironmentFailed("Runtime.InitTimeout", f"Init phase did not complete in {INIT_TIMEOUT_S:.0f} s")
        except BaseException:
            self.discard(env)
            raise
        return env

    async def _spawn_plain(self, env: Environment, spec: EnvSpec) -> int:
        """A new process (an interpreter, node, or a bootstrap): in its own bwrap when sandboxed."""
        box = await self.isolation()
        script = str(PYTHON_RUNTIME_SCRIPT) if box is None else f"{sandbox.RUNTIME_DIR}/python_runtime.py"
        argv = spec.argv or [spec.interpreter or sys.executable, script]
        variables = dict(spec.env)
        if spec.argv is None:  # the fork server sets sys.path itself; a new interpreter reads this
            sdk = self._sdk_dir(argv[0])
            if sdk and box is not None:
                sdk = f"{sandbox.RUNTIMES}/{Path(sdk).relative_to(box.runtimes_dir)}"
            paths = list(spec.paths) + ([sdk] if sdk else [])
            if paths:
                variables["PYTHONPATH"] = os.pathsep.join(paths)
        cwd = spec.task_root
        if box is not None:
            box.show(argv[0])
            argv = box.command(argv, spec.code_dir, spec.opt_dir, tmp_mb=spec.tmp_mb)
            cwd = spec.code_dir
        with open(env.log_path, "ab") as out:
            proc = await asyncio.create_subprocess_exec(
                *argv, env=variables, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=out, start_new_session=True,
            )

        async def wait() -> None:
            status = await proc.wait()
            self._exited(proc.pid, status)

        task = asyncio.ensure_future(wait())
        self._children.add(task)
        task.add_done_callback(self._children.discard)
        return proc.pid

    # -- giving back ---------------------------------------------------------------------------
    def release(self, env: Environment) -> None:
        env.finish()
        if env.dead:
            return
        if env.retired:
            self.discard(env)
            return
        env.last_used = time.monotonic()
        self.idle.setdefault(env.key, []).append(env)

    def discard(self, env: Environment) -> None:
        """Kill ``env`` now; its exit report cleans up."""
        env.finish()
        stack = self.idle.get(env.key)
        if stack and env in stack:
            stack.remove(env)
        if env.pid and not env.dead:
            env.kill()
        else:
            self._forget(env)
        env.api.close()

    def retire(self, match: Any) -> int:
        """Kill the idle environments whose key satisfies ``match(key)``; busy ones are discarded by
        their invocation when it sees the key is stale. Returns how many were killed."""
        killed = 0
        for env in self.all:
            if match(env.key):
                env.retired = True
        self._drop_templates(match)
        for key in [k for k in self.idle if match(k)]:
            for env in self.idle.pop(key):
                self.discard(env)
                killed += 1
        return killed

    def _exited(self, pid: int, status: int) -> None:
        env = self.by_pid.pop(pid, None)
        if env is None:
            if len(self._early_exits) > 1000:  # exits of environments nobody waits for any more
                self._early_exits.clear()
            self._early_exits[pid] = status
            return
        env.exited(status)
        stack = self.idle.get(env.key)
        if stack and env in stack:
            stack.remove(env)
        self._forget(env)

    def _fork_server_lost(self, server: ForkServer) -> None:
        for pid in list(self.by_pid):
            if self.by_pid[pid].forked_by is server:
                self._exited(pid, -signal.SIGKILL)

    def _forget(self, env: Environment) -> None:
        env.dead = True
        self.all.discard(env)
        if isinstance(env.forked_by, Template):
            self._close_if_unused(env.forked_by)
        try:  # its /tmp may be big: remove it off the event loop
            asyncio.get_running_loop().run_in_executor(None, shutil.rmtree, env.dir, True)
        except RuntimeError:
            shutil.rmtree(env.dir, ignore_errors=True)

    # -- reaping -------------------------------------------------------------------------------
    def _ensure_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.ensure_future(self._reap_loop())

    async def _reap_loop(self) -> None:
        period = max(0.2, min(self.idle_seconds / 4, 10.0))
        while True:
            await asyncio.sleep(period)
            self.reap()

    def reap(self) -> int:
        cutoff = time.monotonic() - self.idle_seconds
        self._reap_sandboxed(cutoff)
        reaped = 0
        for key, stack in list(self.idle.items()):
            for env in [e for e in stack if e.last_used <= cutoff and not e.provisioned]:
                self.discard(env)
                reaped += 1
            if not stack:
                self.idle.pop(key, None)
        return reaped

    def stats(self) -> dict[str, int]:
        return {"environments": len(self.all), "idle": sum(len(s) for s in self.idle.values())}

    def pids(self) -> list[int]:
        return [e.pid for e in self.all if e.pid and not e.dead]

    def _drop_environments(self) -> None:
        """Stop the reaper, kill every environment, close every SnapStart template."""
        if self._reaper is not None:
            self._reaper.cancel()
        for env in list(self.all):
            self.discard(env)
        self.idle.clear()
        for future in self.templates.values():
            future.add_done_callback(_close_template)
        self.templates.clear()

    def close_now(self) -> None:
        """Synchronous shutdown: kill every environment, let the fork server go (stdin EOF)."""
        self._drop_environments()
        for server in [*self.fork_servers.values(), *self.sandboxed.all()]:
            server.close_now()
        for task in list(self._children):
            task.cancel()

    async def close(self) -> None:
        self._drop_environments()
        for server in [*self.fork_servers.values(), *self.sandboxed.all()]:
            await server.close()
        for task in list(self._children):
            task.cancel()
