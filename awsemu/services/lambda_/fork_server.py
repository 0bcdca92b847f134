"""The fork server: a pre-initialized interpreter that forks execution environments on request.

Started once per interpreter by pool.py as ``python fork_server.py [--sdk DIR]``: a plain script
that imports nothing of awsemu and only the standard library, so any Python 3.9+ can run it (``DIR``
is appended to ``sys.path``: the server's AWS SDK for an interpreter that has none, interpreters.py).
At start it imports the runtime loop (python_runtime.py) and, when installed, boto3 with the
models handlers use most, so every environment forked from it begins with those modules already in
memory (copy-on-write): a cold start costs one ``fork`` instead of an interpreter start plus
imports — the local analogue of Lambda's snapshot start.

Protocol on stdin/stdout, one JSON object per line:

    -> {"id": 7, "env": {...}, "cwd": "/task", "log": "/path/log", "memory_mb": 128,
        "argv": null | ["/task/bootstrap"], "paths": ["/task", "/opt/python"],
        "private_tmp": false, "tmp_mb": 512, "shares": [], "mounts": null | {"task": ..., ...}}
    <- {"id": 7, "pid": 4242}                 (or {"id": 7, "error": "..."})
    <- {"exit": 4242, "status": -9}           (whenever an environment ends; -N = killed by signal N)

The child starts a new session (so the server can kill the environment with its subprocesses),
dies with the fork server (PR_SET_PDEATHSIG), writes stdout/stderr to its log file, gets exactly
the given environment variables, gets a /tmp of its own when ``private_tmp`` (a sandboxed fork
server's child: :func:`private_tmp`, see sandbox.py), or its own code, layers and /tmp when
``mounts`` is given (the child of the one sandboxed fork server of its interpreter: :func:`own_code`),
and either runs the Python runtime loop (``argv`` null) or ``execve``s the custom runtime's
bootstrap. The fork server exits when stdin closes.

SnapStart templates: a request with ``"template": ADDRESS`` forks a child that runs the function's
init (imports the handler module, running its top-level code), connects to that Unix socket
address and then serves the same protocol on it (``{"ready": pid}`` first, or ``{"init_error": doc}``
and exit). The function's before-snapshot hooks run in the template after its init (an exception
there is its init error, ``Runtime.BeforeSnapshotError``), its after-restore hooks in each forked
environment before its first invoke (python_runtime.main; snapshot_restore_py.py). Environments forked from a template start with the handler already loaded: the init
phase ran once, at PublishVersion, and every cold start of that version is a fork of its result.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import json
import os
import select
import signal
import sys
import traceback
from typing import Any

import python_runtime

PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
IDLE_PRELOAD_S = 0.2
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 0x1, 0x2, 0x4, 0x8, 0x20
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 0x400, 0x800, 0x1000, 0x4000, 0x40000, 0x200000
MNT_DETACH = 0x2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
# statvfs flags -> the mount flags a remount must repeat (a mount copied into a user namespace has
# them locked: a remount that leaves one out is refused)
_KEPT_FLAGS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
               (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))

_out_fd = 1  # where _send writes: stdout of the fork server, the socket of a template
_conn_fd = -1  # a template's socket (its children close it)
_loaded_handler: Any = None  # a template's handler, initialized before its children are forked


def _preload() -> None:
    """Import what handlers import, once, before any fork."""
    try:
        import boto3  # noqa: F401  (optional: environments get it for free when it is installed)

        # Building a client of each common service fills the default session's loader cache (models,
        # endpoint rules, retry and partition data): a handler's own ``boto3.client("sqs")`` then
        # reads no JSON file. Explicit dummy keys and region keep the session itself unresolved:
        # credentials, region and endpoint come from the child's environment at its first client.
        boto3.setup_default_session()
        for service in ("sqs", "dynamodb", "s3", "lambda", "sts"):
            boto3.client(service, region_name="us-east-1", aws_access_key_id="preload",
                         aws_secret_access_key="preload", endpoint_url="http://127.0.0.1:9")
    except Exception:  # noqa: BLE001 - no boto3 (or a broken one) only makes handlers import it themselves
        pass


def _set_pdeathsig() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


_libc_handle: Any = None


def _libc() -> Any:
    global _libc_handle
    if _libc_handle is None:
        _libc_handle = ctypes.CDLL(None, use_errno=True)
    return _libc_handle


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _libc().mount(source and source.encode(), target.encode(), fstype and fstype.encode(), flags,
                     data and data.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _remount_read_only(path: str, bind: bool = True) -> None:
    """Make the mount at ``path`` read-only, repeating the flags it has (see _KEPT_FLAGS)."""
    flags = os.statvfs(path).f_flag
    kept = sum(ms for st, ms in _KEPT_FLAGS if flags & st)
    _mount(None, path, None, MS_REMOUNT | (MS_BIND if bind else 0) | MS_RDONLY | kept)


def _bind_read_only(source: str, target: str) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)
    _remount_read_only(target)


def new_mount_namespace() -> str:
    """Enter a mount namespace of our own: "root" when we hold CAP_SYS_ADMIN, "user" when it took a
    new user namespace mapping our own uid and gid, "" when the host allows neither."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    how = "root"
    if libc.unshare(CLONE_NEWNS) != 0:
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
            return ""
        how = "user"
        try:
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
        except OSError:
            return ""
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return ""
    return how


def _cover(path: str, keep: list[str], options: str) -> None:
    """Mount a fresh tmpfs on ``path``; the directories of ``keep`` under it are bound again on top
    (held by descriptor before the tmpfs hides them)."""
    held = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in keep
            if p.startswith(path + "/") and os.path.isdir(p)]
    try:
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, options)
        for p, fd in held:
            os.makedirs(p, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
    finally:
        for _, fd in held:
            os.close(fd)


def private_tmp(size_mb: int, keep: list[str]) -> bool:
    """Give this process a /tmp of its own: a new mount namespace (:func:`new_mount_namespace`) with
    a fresh tmpfs on /tmp. The directories in ``keep`` that lived under the old /tmp (shared host
    directories, interpreters) are bound again on top. Used in a sandboxed fork server's children
    (sandbox.py); False when the host allows no such thing."""
    if not new_mount_namespace():
        return False
    try:
        _cover("/tmp", keep, f"mode=1777,size={size_mb}m")
    except OSError:
        return False
    return True


def own_code(mounts: dict[str, Any], tmp_mb: int, keep: list[str]) -> None:
    """Set up a forked child of the one sandboxed fork server of its interpreter (sandbox.py) as its
    function's environment, before anything of the function runs: in a mount namespace of its own,
    its code (``mounts["task"]``, as the server sees it, under the staging mount) read-only at
    /var/task, its merged layers (``mounts["opt"]``) read-only at /opt (the directories of ``keep``
    under /opt: interpreters, bound again), a fresh /tmp; then the staging mount (every function's
    code) goes: unmounted where we hold CAP_SYS_ADMIN, else (a user namespace, where it is locked to
    its parent mounts) covered by an empty read-only tmpfs, and then our capabilities are dropped so
    the handler cannot uncover it (a user namespace of its own would hold the cover locked too). Raises OSError when any step fails: the environment must not run."""
    how = new_mount_namespace()
    if not how:
        raise OSError("no mount namespace for this execution environment")
    _bind_read_only(mounts["task"], mounts["task_root"])
    opt = mounts.get("opt")
    if opt:
        names = sorted(os.listdir(opt))
        _cover(mounts["opt_root"], keep, "mode=755,size=1m")
        for name in names:
            source, target = os.path.join(opt, name), os.path.join(mounts["opt_root"], name)
            if os.path.isdir(source):
                os.makedirs(target, exist_ok=True)
            elif not os.path.exists(target):
                open(target, "w").close()
            _bind_read_only(source, target)
        _remount_read_only(mounts["opt_root"], bind=False)
    _cover("/tmp", keep, f"mode=1777,size={tmp_mb}m")
    stage = mounts["stage"]
    covered = _libc().umount2(stage.encode(), MNT_DETACH) != 0
    if covered:
        _mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0,size=4k")
        _remount_read_only(stage, bind=False)
    if how == "user" or covered:  # what a user namespace gave us, or what could lift the cover
        drop_capabilities()


def drop_capabilities() -> None:
    """Empty this process's capability sets (what a new user namespace gave it)."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    libc = _libc()
    for cap in range(64):  # the bounding set first (needs CAP_SETPCAP, which we still have)
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EINVAL:
            break
    if libc.capset(ctypes.byref(Header(LINUX_CAPABILITY_VERSION_3, 0)), (Data * 2)()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")


def _probe(setup: dict[str, Any]) -> None:
    """``fork_server.py --probe JSON`` (sandbox.py runs it in bwrap, JSON: {"shares": [...], "mounts":
    {...} or null}): can a forked child get a /tmp of its own, with the shared directories still
    there ("private-tmp")? And when ``mounts`` is given (a sandbox laid out for one fork server per
    interpreter), can it also set itself up with :func:`own_code`: its code at /var/task, nothing
    left of the staging mount ("own-code")?"""
    shares = list(setup.get("shares") or [])

    def check(mounts: dict[str, Any] | None) -> bool:
        pid = os.fork()
        if pid == 0:
            try:
                if mounts is None:
                    ok = private_tmp(16, shares)
                else:
                    own_code(mounts, 16, shares)
                    ok = os.path.exists(os.path.join(mounts["task_root"], "fork_server.py"))
                    ok = ok and not _listdir(mounts["stage"])
                    with open("/proc/self/mountinfo") as f:  # the staging mount is gone, or covered
                        ok = ok and not any(line.split()[4] == mounts["stage"] for line in f
                                            if "tmpfs" not in line.split(" - ")[-1])
                ok = ok and all(os.path.isdir(path) for path in shares)
                if ok:
                    with open("/tmp/probe", "w") as f:
                        f.write("mine")
            except Exception:  # noqa: BLE001 - any failure means "no"
                traceback.print_exc()
                ok = False
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and not os.path.exists("/tmp/probe")

    print("private-tmp" if check(None) else "shared-tmp")
    if setup.get("mounts"):
        print("own-code" if check(setup["mounts"]) else "shared-code")


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:  # the empty cover of mode 0 (own_code): nothing to see either
        return []


def _child(request: dict[str, Any], wakeup_fds: tuple[int, int]) -> None:
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for fd in wakeup_fds:
        os.close(fd)
    if _conn_fd >= 0:
        os.close(_conn_fd)
    os.setsid()
    _set_pdeathsig()
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    if request.get("mounts"):  # one sandboxed fork server for every function of its interpreter
        own_code(request["mounts"], int(request.get("tmp_mb", 512)), list(request.get("shares") or []))
    elif request.get("private_tmp"):
        private_tmp(int(request.get("tmp_mb", 512)), list(request.get("shares") or []))
    env: dict[str, str] = request["env"]
    os.environ.clear()
    os.environ.update(env)
    os.chdir(request["cwd"])
    argv = request.get("argv")
    if argv:
        os.execve(argv[0], argv, env)
    python_runtime.limit_memory(int(request.get("memory_mb", 128)))
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # line-buffered, like the Lambda runtime's
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    if _loaded_handler is None:  # a template's children inherit its sys.path
        sys.path[0:1] = list(request.get("paths") or [request["cwd"]])
    if request.get("template"):
        _become_template(request["template"])
    else:
        python_runtime.main(_loaded_handler)


def _become_template(socket_path: str) -> None:
    """Run the function's init, then fork its environments from the initialized process."""
    global _loaded_handler, _conn_fd, _out_fd
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    _conn_fd = _out_fd = sock.detach()
    try:
        _loaded_handler = python_runtime.load_handler(os.environ.get("_HANDLER", ""))
    except python_runtime.InitError as exc:
        _send({"init_error": {"errorMessage": str(exc), "errorType": exc.error_type, "stackTrace": []}})
        return
    except Exception as exc:  # the module's own top-level code raised
        doc = python_runtime.error_document(exc)
        traceback.print_exc()
        _send({"init_error": doc})
        return
    try:
        python_runtime.snapshot_restore_py.run_before_snapshot()
    except Exception as exc:  # noqa: BLE001 - a failing hook fails the snapshot
        traceback.print_exc()
        _send({"init_error": python_runtime.error_document(exc, python_runtime.BEFORE_SNAPSHOT_ERROR)})
        return
    sys.stdout.flush()
    sys.stderr.flush()
    serve(_conn_fd, preload=False)


def _spawn(request: dict[str, Any], wakeup_fds: tuple[int, int]) -> int:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            _child(request, wakeup_fds)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - report anything to the environment's log, then die
            traceback.print_exc()
            code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    return pid


def _send(message: dict[str, Any]) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(_out_fd, data):]


def _reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        _send({"exit": pid, "status": code})


def _freeze() -> None:
    # Everything imported so far lives as long as the fork server: keep the collector away from it,
    # so neither it nor a child's collections touch (and copy-on-write) those pages.
    gc.collect()
    gc.freeze()


def serve(in_fd: int = 0, preload: bool = True, preload_when_idle: bool = False) -> None:
    """Answer spawn requests read from ``in_fd`` until it closes (replies go to ``_out_fd``).

    ``preload_when_idle``: answer at once, and preload once no request came for IDLE_PRELOAD_S (a
    sandboxed fork server serves one function's code: its first cold start should not wait for the
    SDK its handler may never import; the environments forked after the preload get it for free)."""
    if preload and not preload_when_idle:
        _preload()
    _freeze()
    pending_preload = preload and preload_when_idle
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    _set_pdeathsig()
    buffer = b""
    _send({"ready": os.getpid()})
    while True:
        try:
            readable, _, _ = select.select([in_fd, wake_r], [], [], IDLE_PRELOAD_S if pending_preload else None)
        except InterruptedError:
            continue
        if not readable and pending_preload:
            pending_preload = False
            _preload()
            _freeze()
        if wake_r in readable:
            try:
                os.read(wake_r, 4096)
            except BlockingIOError:
                pass
            _reap()
        if in_fd in readable:
            chunk = os.read(in_fd, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                try:
                    _send({"id": request["id"], "pid": _spawn(request, (wake_r, wake_w))})
                except OSError as exc:
                    _send({"id": request["id"], "error": str(exc)})


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        _probe(json.loads(sys.argv[2]))
        sys.exit(0)
    lazy = "--preload-when-idle" in sys.argv
    if sys.argv[1:2] == ["--sdk"]:
        sys.path.append(sys.argv[2])
    serve(preload_when_idle=lazy)
