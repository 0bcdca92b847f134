"""Isolation of execution environments: a bubblewrap (``bwrap``) sandbox where the host allows it.

``AWSEMU_LAMBDA_SANDBOX`` picks the mode: ``auto`` (the default: bubblewrap when ``bwrap`` is on PATH
and a probe run of the very sandbox below succeeds, else plain processes), ``bwrap`` (bubblewrap or
no execution at all: every invoke fails with ``Runtime.Unavailable`` and the reason is logged), or
``none`` (plain local processes, as before). The server logs once which one is in effect.

What a sandboxed environment sees, close to Lambda's file system:

- the host's root directories, read-only (Lambda's root file system is read-only too), with
  ``/dev``, ``/proc`` of its own and nothing writable but ``/tmp``;
- ``/var/task``: the function's code (the unpacked package, or the hot-reload directory), read-only;
- ``/opt``: the function's layers, merged in order, read-only (empty without layers);
- ``/var/runtime``: awsemu's runtime scripts (fork_server.py, python_runtime.py), read-only;
- ``/tmp``: a private tmpfs of ``EphemeralStorage`` MB per execution environment, kept across
  warm invokes of that environment and gone with it;
- ``AWSEMU_LAMBDA_SANDBOX_SHARE``: host directories (``:``-separated) that stay readable and
  writable at their own path (AWS has no such thing: it is for tests and local debugging).

The network namespace is the host's: the Runtime API on 127.0.0.1 and ``AWS_ENDPOINT_URL`` reach
awsemu as before; pids are the host's too, so the pool kills and measures environments as before.

How processes get there: where a forked child can make a mount namespace of its own (the probe
checks it), each interpreter has ONE sandboxed fork server for every Python function, and every
cold start is a fork. That server's sandbox shows no code at /var/task; instead the host's
directories any function's code or layers may live in (the hidden roots /tmp, /opt, /var, and
awsemu's Lambda data directory) are bound read-only under a staging mount, ``STAGE``
(``/var/awsemu/host``). Each forked child unshares its mount namespace, binds its own code from
there read-only at /var/task and its merged layers at /opt, mounts its private /tmp, then removes
the staging mount (or covers it with an empty tmpfs and drops its capabilities, in a user namespace
where it cannot be removed) before anything of the function runs (fork_server.own_code): a handler
sees its own code and nothing of any other function's. A hot-reload directory outside the hidden
roots is visible at its own path and bound from there, edits showing through.

Where the host allows no mount namespace per fork (user namespaces off, bwrap setuid), each
(interpreter, code, layers) gets a sandbox and a fork server of its own instead, with the code at
/var/task from bwrap: only the first cold start of each code version pays a sandboxed interpreter
start, and ``/tmp`` is private per fork server (per function code); the log line says so. Node and
custom (``provided``) runtimes have no fork server: each environment is its own ``bwrap`` process
with its own ``--tmpfs /tmp``.

In every layout, awsemu's Lambda data directory (every function's code) is covered by an empty
tmpfs at its own path when it lives in a directory the sandbox shows.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("awsemu.lambda")

HERE = Path(__file__).resolve().parent
MODES = ("auto", "bwrap", "none")
TASK_ROOT = "/var/task"
OPT = "/opt"
RUNTIME_DIR = "/var/runtime"  # awsemu's runtime scripts (this folder)
RUNTIMES = "/var/awsemu/runtimes"  # <lambda data>/runtimes: the Node client, the shared Python SDK
ENV_DIRS = "/var/awsemu/environments"  # a fork server's environment folders (their log files)
STAGE = "/var/awsemu/host"  # the one-server-per-interpreter layout: host code dirs, until a child removes it
HIDDEN = ("/tmp", "/opt", "/var")  # host roots the sandbox replaces: what must show through is bound again
PROBE_TIMEOUT_S = 20.0


class SandboxUnavailable(Exception):
    """``AWSEMU_LAMBDA_SANDBOX=bwrap`` and bubblewrap cannot run here (the message says why)."""


@dataclass
class Sandbox:
    """How to start a process in bubblewrap (see the module docstring for what it sees)."""

    bwrap: str
    runtimes_dir: Path  # <lambda data>/runtimes on the host
    shares: list[str] = field(default_factory=list)
    tmp_per_environment: bool = True  # False: forked environments share their fork server's /tmp
    host_paths: set[str] = field(default_factory=set)  # interpreters' trees under a hidden root
    sized_tmp: bool = True  # this bwrap knows --size (0.7+): /tmp gets EphemeralStorage as its size
    per_child_code: bool = False  # one fork server per interpreter: each child mounts its own code
    env_dirs = ENV_DIRS  # (not a field) where a fork server's environment folders appear

    def describe(self) -> str:
        tmp = ("a private /tmp per execution environment" if self.tmp_per_environment else
               "a private /tmp per fork server (function code): this host allows no mount namespace per fork")
        if self.per_child_code:
            tmp += ", one fork server per interpreter (each environment mounts its own code)"
        return (f"bubblewrap ({self.bwrap}): read-only root, code read-only at {TASK_ROOT}, layers at {OPT}, "
                f"{tmp}" + (f", shared host directories {':'.join(self.shares)}" if self.shares else ""))

    def show(self, executable: str) -> None:
        """Make ``executable``'s installation visible inside when it lives under /tmp, /opt or /var
        (a Python from actions/setup-python lives in /opt/hostedtoolcache, a node in /opt/...)."""
        real = os.path.realpath(executable)
        self.show_tree(os.path.dirname(os.path.dirname(real)))  # .../bin/python -> the installation
        # A virtualenv's bin/python is a symlink to its base interpreter: the venv (its site-packages)
        # must show through as well as the installation it points to.
        self.show_tree(os.path.dirname(os.path.dirname(os.path.abspath(executable))))

    def show_tree(self, path: str) -> None:
        """Bind ``path`` read-only at its own place when the sandbox would hide it."""
        path = os.path.realpath(path)
        if _under_hidden(path) and path not in HIDDEN and os.path.isdir(path):
            self.host_paths.add(path)

    @property
    def lambda_root(self) -> str:
        """awsemu's Lambda data directory (code cache, layers, environments, runtimes)."""
        return os.path.realpath(self.runtimes_dir.parent)

    def stage_roots(self) -> list[str]:
        """The host directories bound under STAGE for a fork server of every function."""
        roots = [root for root in HIDDEN if os.path.isdir(root)]
        return roots + ([] if _under_hidden(self.lambda_root) else [self.lambda_root])

    def reach(self, path: str) -> str:
        """Where a fork server of every function sees the host's ``path`` (a code or layers folder)."""
        real = os.path.realpath(path)
        if any(_within(real, root) for root in self.stage_roots()):
            return STAGE + real
        return real

    def shows(self, path: str) -> bool:
        """Whether the sandbox shows the host's ``path`` at its own place (see :meth:`command`)."""
        if any(_within(path, p) for p in [*self.shares, *self.host_paths]):
            return True
        if _within(path, "/var"):
            return path.split("/")[2:3] not in ([], ["task"], ["runtime"], ["awsemu"])
        return not _under_hidden(path)

    def keep(self) -> list[str]:
        """What a forked child's fresh /tmp and /opt must bind again: shared folders, interpreters."""
        return self.shares + sorted(self.host_paths)

    def child_mounts(self, code: str, opt: str | None) -> dict[str, str | None]:
        """fork_server.own_code's ``mounts``: ``code`` at /var/task, ``opt`` at /opt (host paths)."""
        return {"task": self.reach(code), "task_root": TASK_ROOT, "opt": self.reach(opt) if opt else None,
                "opt_root": OPT, "stage": STAGE}

    def fork_server_command(self, interpreter: str, sdk: str | None, code: str | None, opt: str | None,
                            env_dir: str, tmp_mb: int = 16) -> list[str]:
        """fork_server.py run by ``interpreter`` in a sandbox: for ``code`` and ``opt``, or (``code``
        None) for every function. ``sdk``: the shared SDK folder on the host (interpreters.py)."""
        self.show(interpreter)
        argv = [interpreter, f"{RUNTIME_DIR}/fork_server.py"]
        if sdk:  # the shared SDK folder, as the sandbox sees it
            argv += ["--sdk", f"{RUNTIMES}/{Path(sdk).relative_to(self.runtimes_dir)}"]
        argv.append("--preload-when-idle")  # its first cold start must not wait for the SDK
        return self.command(argv, code, opt, tmp_mb=tmp_mb, env_dir=env_dir)

    def command(self, argv: list[str], code: str | None, opt: str | None, *, tmp_mb: int,
                env_dir: str | None = None) -> list[str]:
        """``argv`` run in a sandbox with ``code`` at /var/task and ``opt`` at /opt; ``env_dir`` (a
        fork server's folder of environment logs) is writable at ENV_DIRS. ``code`` None: the layout
        of a fork server of every function (empty /var/task, the host's code folders under STAGE)."""
        args = [self.bwrap, "--die-with-parent"]
        for name in sorted(os.listdir("/")):
            if name in ("proc", "dev", "tmp", "opt", "var"):
                continue
            args += _show("/" + name)
        args += ["--dev", "/dev", "--proc", "/proc"]
        if self.sized_tmp:
            args += ["--size", str(tmp_mb * 1024 * 1024)]
        args += ["--tmpfs", "/tmp", "--dir", "/var"]
        for name in _listdir("/var"):
            if name not in ("task", "runtime", "awsemu"):
                args += _show("/var/" + name)
        if code is None:
            args += ["--dir", TASK_ROOT, "--tmpfs", STAGE]
            for root in self.stage_roots():
                args += ["--ro-bind", root, STAGE + root]
            args += ["--remount-ro", STAGE]
        else:
            args += ["--ro-bind", code, TASK_ROOT]
        args += ["--ro-bind", str(HERE), RUNTIME_DIR]
        self.runtimes_dir.mkdir(parents=True, exist_ok=True)
        args += ["--ro-bind", str(self.runtimes_dir), RUNTIMES]
        if env_dir is not None:
            args += ["--bind", env_dir, ENV_DIRS]
        args += ["--tmpfs", OPT]
        if opt is not None:
            for name in _listdir(opt):
                args += ["--ro-bind", os.path.join(opt, name), f"{OPT}/{name}"]
        for path in sorted(self.host_paths):  # before /opt is read-only: their mount points go there
            args += ["--ro-bind", path, path]
        args += ["--remount-ro", OPT]
        for path in self.shares:
            args += ["--bind", path, path]
        if self.shows(self.lambda_root):  # every function's code, at its own path: cover it
            args += ["--tmpfs", self.lambda_root, "--remount-ro", self.lambda_root]
        args += ["--remount-ro", "/", "--chdir", TASK_ROOT, "--"]
        return args + argv


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root + "/")


def _under_hidden(path: str) -> bool:
    return any(_within(path, root) for root in HIDDEN)


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _show(path: str) -> list[str]:
    """The host's ``path`` as it is: a symlink stays a symlink, anything else is bound read-only."""
    if os.path.islink(path):
        return ["--symlink", os.readlink(path), path]
    return ["--ro-bind", path, path]


def detect(mode: str, runtimes_dir: Path, shares: str = "") -> Sandbox | None:
    """The sandbox in effect for ``mode`` (None: plain processes), logged once; blocking (it runs a probe).

    Raises :class:`SandboxUnavailable` when ``mode`` is ``bwrap`` and bubblewrap cannot run."""
    if mode == "none":
        log.info("Lambda isolation: plain processes (AWSEMU_LAMBDA_SANDBOX=none)")
        return None
    bwrap = shutil.which("bwrap")
    reason = "bwrap not found"
    sandbox = None
    if bwrap is not None:
        shared = [os.path.realpath(p) for p in shares.split(":") if p and os.path.isdir(p)]
        sandbox = Sandbox(bwrap, runtimes_dir, shared)
        sandbox.show(sys.executable)
        for tree in {sys.prefix, sys.base_prefix}:  # a virtualenv, and the Python it was made from
            sandbox.show_tree(tree)
        sandbox.sized_tmp = "--size" in _help(bwrap)
        reason = _probe(sandbox)
        if reason == "":
            log.info("Lambda isolation: %s", sandbox.describe())
            return sandbox
    if mode == "bwrap":
        log.error("Lambda isolation: none available, and AWSEMU_LAMBDA_SANDBOX=bwrap: every invoke fails (%s)",
                  reason)
        raise SandboxUnavailable(f"AWSEMU_LAMBDA_SANDBOX=bwrap, but bubblewrap cannot run here: {reason}")
    log.info("Lambda isolation: plain processes (%s)", reason)
    return None


def _help(bwrap: str) -> str:
    try:
        out = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout + out.stderr


def _probe(sandbox: Sandbox) -> str:
    """Run fork_server.py's probe in the sandbox: "" when it works (and whether a forked environment
    gets a /tmp, and its code, of its own is recorded), else why not. The layout of one fork server
    per interpreter is tried first, then the one of a fork server per code."""
    reason = ""
    for shared in (True, False):
        setup = {"shares": sandbox.keep(), "mounts": sandbox.child_mounts(str(HERE), None) if shared else None}
        argv = [sys.executable, "-S", f"{RUNTIME_DIR}/fork_server.py", "--probe", json.dumps(setup)]
        command = sandbox.command(argv, None if shared else str(HERE), None, tmp_mb=16)
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = f"bwrap probe failed: {exc}"
            continue
        answers = out.stdout.split()
        if out.returncode != 0 or not answers:
            reason = f"bwrap probe failed: {(out.stderr or out.stdout).strip()[-300:] or out.returncode}"
            continue
        sandbox.tmp_per_environment = "private-tmp" in answers
        sandbox.per_child_code = shared and "own-code" in answers
        if sandbox.per_child_code or not shared:
            return ""
        log.info("Lambda sandbox: environments cannot mount their own code here, so each function code "
                 "gets a sandboxed fork server of its own (%s)",
                 (out.stderr.strip()[-300:] or "the probe said no"))
    return reason
