"""A real ``awsemu serve`` subprocess for tests: free port, temp data dir, stopped by PID.

Used by our own test-suite and by the pytest plugin users get (``awsemu.testing.plugin``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READY_PREFIX = "awsemu ready on "


class ServerProcess:
    """One server process over one data dir; can be stopped, killed and started again on it."""

    def __init__(self, data_dir: Path | None = None, *, env: dict[str, str] | None = None,
                 extra_args: list[str] | None = None) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="awsemu-test-")
            data_dir = Path(self._tmp.name)
        self.data_dir = Path(data_dir)
        self.env = env or {}
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint = ""
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.server.log"
        self.startup_seconds = 0.0

    def start(self, timeout: float = 30.0) -> str:
        state = self.data_dir / "state"
        out_path = self.data_dir.parent / f"{self.data_dir.name}.stdout"
        env = {**os.environ, **self.env}
        env.pop("AWSEMU_PORT", None)
        started = time.perf_counter()
        with open(out_path, "wb") as out, open(self.log_path, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "awsemu", "serve", "--host", "127.0.0.1", "--port", "0",
                 "--data-dir", str(state), "--log-level", env.get("AWSEMU_LOG_LEVEL", "info"),
                 *self.extra_args],
                stdout=out, stderr=err, env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = out_path.read_text(errors="replace") if out_path.exists() else ""
            for line in text.splitlines():
                if line.startswith(READY_PREFIX):
                    self.endpoint = line[len(READY_PREFIX):].strip()
                    self.startup_seconds = time.perf_counter() - started
                    return self.endpoint
            if self.proc.poll() is not None:
                raise RuntimeError(f"awsemu exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.01)
        self.kill()
        raise RuntimeError(f"awsemu did not become ready in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait: the clean shutdown path. Returns the exit code."""
        if self.proc is None:
            return 0
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                return proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise RuntimeError("awsemu did not stop within %ss of SIGTERM" % timeout)
        return proc.returncode

    def kill(self) -> None:
        """SIGKILL: the crash path."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def close(self) -> None:
        try:
            self.stop()
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def __enter__(self) -> "ServerProcess":
        try:
            self.start()
        except BaseException:  # a server that never became ready leaves no process or temp dir
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
