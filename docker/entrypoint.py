#!/usr/bin/env python3
"""PID 1 of the awsemu image: runs ``awsemu serve``, forwards SIGTERM/SIGINT to it (so ``docker stop``
flushes the engines and exits at once), and runs the init hooks once the server is ready.

Hooks: executable ``*.sh`` and any ``*.py`` files in ``/etc/awsemu/init/ready.d`` and LocalStack's
``/etc/localstack/init/ready.d`` (so existing setups move over unchanged), in name order, with
``AWS_ENDPOINT_URL`` and test credentials set. Their output goes to the container log; a failing hook
is reported there and the server keeps running. ``AWSEMU_INIT_DIRS`` (``:``-separated) overrides the
directories.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

DEFAULT_DIRS = "/etc/awsemu/init/ready.d:/etc/localstack/init/ready.d"
READY = "awsemu ready on "


def log(message: str) -> None:
    print(f"awsemu-init: {message}", flush=True)


def hook_files(dirs: list[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in dirs:
        if folder.is_dir():
            files += sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".sh", ".py"))
    return files


def run_hooks(endpoint: str, dirs: list[Path]) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint.replace("0.0.0.0", "127.0.0.1"),
    }
    for hook in hook_files(dirs):
        if hook.suffix == ".sh":
            if not os.access(hook, os.X_OK):
                log(f"skipping {hook}: not executable")
                continue
            command = [str(hook)]
        else:
            command = [sys.executable, str(hook)]
        log(f"running {hook}")
        result = subprocess.run(command, env=env, stdout=sys.stdout, stderr=sys.stdout)
        if result.returncode != 0:
            log(f"hook {hook} failed with exit code {result.returncode}")
    log("ready hooks done")


def main(argv: list[str]) -> int:
    dirs = [Path(d) for d in os.environ.get("AWSEMU_INIT_DIRS", DEFAULT_DIRS).split(":") if d]
    child = subprocess.Popen(
        [sys.executable, "-m", "awsemu", "serve", *argv], stdout=subprocess.PIPE, text=True, bufsize=1
    )

    def forward(signum: int, frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    assert child.stdout is not None
    for line in child.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.startswith(READY):
            threading.Thread(target=run_hooks, args=(line[len(READY):].strip(), dirs), daemon=True).start()
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
