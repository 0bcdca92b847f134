"""Clients of fork_server.py processes: a fork server per interpreter, and SnapStart templates.

A :class:`ForkServer` is a pre-initialized interpreter (fork_server.py run as a script) driven over its
stdin/stdout: each spawn request answers with the pid of a new execution environment, and exits of
its environments are reported as they happen. A :class:`Template` speaks the same protocol over a
Unix socket: it is an environment process, forked by a fork server with a version's spec, that ran
the function's init (SnapStart) before it started forking that version's environments. pool.py owns
both kinds and decides which one starts an environment. :class:`SandboxedServers` keeps the fork
servers that run in the bubblewrap sandbox (sandbox.py): one per interpreter for every function, or
(hosts without a mount namespace per fork) one per function code.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import shutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("awsemu.lambda")

FORK_SERVER_SCRIPT = Path(__file__).resolve().parent / "fork_server.py"
SNAPSTART_INIT_TIMEOUT_S = 60.0  # SnapStart's init runs at publish, where Lambda allows longer
SPARE_SANDBOXED_SERVERS = 4  # sandboxed fork servers of one code kept unused (the most recently used)


class EnvironmentFailed(Exception):
    """The environment could not start or died; ``error_type``/``message`` are AWS's words for it."""

    def __init__(self, error_type: str, message: str, body: bytes | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.body = body


def message_of(body: bytes) -> str:
    """The errorMessage of a runtime's error document ("" if it has none)."""
    try:
        doc = json.loads(body)
        return str(doc.get("errorMessage", "")) if isinstance(doc, dict) else ""
    except ValueError:
        return ""


def signal_name(number: int) -> str:
    """How Lambda names the signal that ended a runtime: "killed" for SIGKILL, else e.g. "term", "segv"."""
    try:
        return signal.Signals(number).name[3:].lower().replace("kill", "killed")
    except ValueError:
        return str(number)


@dataclass
class EnvSpec:
    """How to start an environment: its variables, code directory, and runtime entry point.

    ``task_root``, ``argv`` and ``paths`` are as the environment sees them (``/var/task``... in a
    sandbox); ``code_dir`` and ``opt_dir`` are the host's directories of the code and merged layers."""

    env: dict[str, str]
    task_root: str
    memory_mb: int
    argv: list[str] | None = None  # custom runtime: the bootstrap; None: the Python runtime loop
    paths: list[str] = field(default_factory=list)  # sys.path head for the Python runtime
    interpreter: str | None = None  # the Python that runs the runtime loop (None: the server's)
    code_dir: str = ""
    opt_dir: str | None = None
    tmp_mb: int = 512  # EphemeralStorage: the size of a sandboxed environment's /tmp


@dataclass
class SandboxView:
    """A sandboxed fork server's side of the sandbox: its environments' folders (``host``) appear at
    ``inside`` (sandbox.ENV_DIRS), and each forked child mounts a /tmp of its own when ``private_tmp``
    (bringing back ``shares``). ``child_mounts`` is set for the one fork server of every function
    of an interpreter (sandbox.Sandbox.child_mounts): each child then mounts its own code and layers."""

    host: Path
    inside: str
    private_tmp: bool
    shares: list[str]
    child_mounts: Callable[[str, str | None], dict[str, str | None]] | None = None

    def path(self, env_dir: Path) -> str:
        return f"{self.inside}/{env_dir.relative_to(self.host)}"


class ForkServer:
    """A process speaking fork_server.py's protocol: a fork server over its stdin/stdout."""

    def __init__(self, on_exit: Any, on_lost: Any, argv: list[str] | None = None,
                 view: SandboxView | None = None) -> None:
        self.on_exit = on_exit
        self.on_lost = on_lost  # called with this object when the process is gone
        self.argv = argv or [sys.executable, str(FORK_SERVER_SCRIPT)]
        self.view = view  # None: not sandboxed
        self.proc: asyncio.subprocess.Process | None = None
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._ids = itertools.count(1)
        self._calls: dict[int, asyncio.Future[int]] = {}
        self._read_task: asyncio.Task[None] | None = None
        self._starting: asyncio.Future[None] | None = None
        self.forks_functions = True  # False: a template, whose children are its function's already

    async def ensure_started(self) -> None:
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        await asyncio.shield(self._starting)

    async def _start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 20,
        )
        assert self.proc.stdout is not None
        self.reader, self.writer = self.proc.stdout, self.proc.stdin  # type: ignore[assignment]
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the Lambda fork server exited at start")
        self._read_task = asyncio.ensure_future(self._read_loop())

    async def _read_loop(self) -> None:
        assert self.reader is not None
        while True:
            line = await self.reader.readline()
            if not line:
                break
            message = json.loads(line)
            if "exit" in message:
                self.on_exit(message["exit"], message["status"])
            elif "id" in message:
                future = self._calls.pop(message["id"], None)
                if future is not None and not future.done():
                    if "pid" in message:
                        future.set_result(message["pid"])
                    else:
                        future.set_exception(OSError(message.get("error", "fork failed")))
        for future in self._calls.values():
            if not future.done():
                future.set_exception(OSError("the Lambda fork server exited"))
        self._calls.clear()
        self._starting = None  # the next cold start starts a new fork server
        if self.writer is not None:
            log.warning("a Lambda fork server (%s) exited; its environments died with it", self.describe())
            self.proc = None
            self.writer = None
            self.on_lost(self)  # their exits will never be reported: PDEATHSIG killed them

    def describe(self) -> str:
        return self.argv[0] if self.view is None else f"sandboxed {self.view.host.name}"

    async def spawn(self, spec: EnvSpec, env_dir: Path, template: str | None = None) -> int:
        await self.ensure_started()
        assert self.writer is not None
        call_id = next(self._ids)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._calls[call_id] = future
        log_path = self.view.path(env_dir / "log") if self.view is not None else str(env_dir / "log")
        request = {"id": call_id, "env": spec.env, "cwd": spec.task_root, "log": log_path,
                   "memory_mb": spec.memory_mb, "argv": spec.argv, "paths": spec.paths, "template": template}
        if self.view is not None and self.view.child_mounts is not None and self.forks_functions:
            request.update(mounts=self.view.child_mounts(spec.code_dir, spec.opt_dir), tmp_mb=spec.tmp_mb,
                           shares=self.view.shares)
        elif self.view is not None and self.view.private_tmp:
            request.update(private_tmp=True, tmp_mb=spec.tmp_mb, shares=self.view.shares)
        self.writer.write((json.dumps(request) + "\n").encode())
        return await future

    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def close_now(self) -> None:
        """Close the channel: the process exits at EOF; its children die with it (PDEATHSIG)."""
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.close()

    async def close(self) -> None:
        proc = self.proc
        self.close_now()
        if proc is not None:
            self.proc = None
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        if self._read_task is not None:
            self._read_task.cancel()


class Template(ForkServer):
    """A SnapStart template: forked by ``parent`` with a version's spec, it runs the function's init
    (fork_server._become_template), then connects back over a Unix socket (abstract namespace, so
    no path length limit) and forks that version's environments on request."""

    def __init__(self, on_exit: Any, on_lost: Any, parent: ForkServer, spec: EnvSpec, env_dir: Path) -> None:
        super().__init__(on_exit, on_lost, parent.argv, parent.view)
        self.parent = parent
        self.spec = spec
        self.dir = env_dir
        self.template_pid = 0
        self.retiring = False  # its version's environments are retired: close it when none is left
        self.forks_functions = False

    def describe(self) -> str:
        return f"SnapStart template {self.template_pid}"

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = loop.create_future()

        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if not connected.done():
                connected.set_result((reader, writer))
            else:
                writer.close()

        address = f"\0awsemu-snapstart-{uuid.uuid4().hex}"
        listener = await asyncio.start_unix_server(on_connect, path=address, limit=1 << 20)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            if self.view is None:  # a sandboxed template has its /tmp (a fresh one per forked child too)
                (self.dir / "tmp").mkdir(exist_ok=True)
                self.spec.env = {**self.spec.env, "TMPDIR": str(self.dir / "tmp")}
            self.template_pid = await self.parent.spawn(self.spec, self.dir, template=address)
            self.reader, self.writer = await asyncio.wait_for(connected, SNAPSTART_INIT_TIMEOUT_S)
        except BaseException:
            if self.template_pid:
                _kill_group(self.template_pid)
            raise
        finally:
            listener.close()
        line = await asyncio.wait_for(self.reader.readline(), SNAPSTART_INIT_TIMEOUT_S)
        message = json.loads(line) if line else {"init_error": {"errorType": "Runtime.ExitError",
                                                                 "errorMessage": "the init phase exited"}}
        if "init_error" in message:
            self.writer.close()
            self.writer = None
            doc = message["init_error"]
            raise EnvironmentFailed(doc.get("errorType", "Runtime.Unknown"), doc.get("errorMessage", ""),
                                    json.dumps(doc).encode())
        self._read_task = asyncio.ensure_future(self._read_loop())

    def close_now(self) -> None:
        super().close_now()
        shutil.rmtree(self.dir, ignore_errors=True)


class SandboxedServers:
    """The sandboxed fork servers (sandbox.py), keyed by (interpreter, code, layers): code "" for the
    one fork server of every function of an interpreter (each child mounts its own code), a code
    directory for one that serves that code only (hosts without a mount namespace per fork). Each
    is an interpreter: those serving one code are closed once unused (:meth:`reap`)."""

    def __init__(self, envs_dir: Path, on_exit: Any, on_lost: Any) -> None:
        self.envs_dir = envs_dir
        self.on_exit = on_exit
        self.on_lost = on_lost
        self.servers: dict[tuple[str, str, str | None], ForkServer] = {}
        self.used: dict[ForkServer, float] = {}  # when each last forked (or was made)

    def get(self, box: Any, interpreter: str, sdk: str | None, code: str | None, opt: str | None,
            tmp_mb: int = 512) -> tuple[ForkServer, bool]:
        """The server for ``code`` and ``opt`` (``code`` None: for every function), and whether it is new."""
        key = (interpreter, code or "", opt)
        server = self.servers.get(key)
        new = server is None
        if server is None:
            host = self.envs_dir / f"sandbox-{uuid.uuid4().hex}"
            host.mkdir(parents=True)
            command = box.fork_server_command(interpreter, sdk, code, opt, str(host), tmp_mb)
            view = SandboxView(host, box.env_dirs, box.tmp_per_environment, box.keep(),
                               box.child_mounts if code is None else None)
            server = self.servers[key] = ForkServer(self.on_exit, self.on_lost, command, view)
        self.used[server] = time.monotonic()
        return server, new

    def reap(self, busy: set[Any], cutoff: float, spare: int = SPARE_SANDBOXED_SERVERS) -> None:
        """Close the servers of one code that fork nothing (not in ``busy``): those unused since
        ``cutoff``, and all but the ``spare`` most recently used of the rest."""
        unused = sorted(((self.used.get(s, 0.0), key) for key, s in self.servers.items()
                         if s not in busy and key[1]), key=lambda item: item[0])
        for rank, (used, key) in enumerate(reversed(unused)):
            if used <= cutoff or rank >= spare:
                server = self.servers.pop(key)
                self.used.pop(server, None)
                server.close_now()
                if server.view is not None:
                    shutil.rmtree(server.view.host, ignore_errors=True)

    def all(self) -> list[ForkServer]:
        return list(self.servers.values())


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
