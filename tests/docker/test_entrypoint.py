"""The image's PID 1 (docker/entrypoint.py), run here as a plain process: init hooks and signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ENTRYPOINT = Path(__file__).resolve().parents[2] / "docker" / "entrypoint.py"


def _hook(folder: Path, name: str, text: str, executable: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    if executable:
        path.chmod(0o755)


def test_ready_hooks_run_in_order_failures_reported_and_sigterm_exits_zero(tmp_path):
    ours, localstack = tmp_path / "awsemu-ready.d", tmp_path / "localstack-ready.d"
    out = tmp_path / "hook-output"
    _hook(ours, "01-shell.sh", f"#!/bin/sh\necho \"sh $AWS_ENDPOINT_URL\" >> {out}\n")
    _hook(ours, "02-fails.sh", "#!/bin/sh\necho about to fail\nexit 3\n")
    _hook(ours, "03-not-executable.sh", f"#!/bin/sh\necho never >> {out}\n", executable=False)
    _hook(ours, "04-ignored.txt", "not a hook")
    _hook(localstack, "10-boto.py", (
        "import boto3\n"
        "account = boto3.client('sts').get_caller_identity()['Account']\n"
        f"open({str(out)!r}, 'a').write('py ' + account + '\\n')\n"
    ))
    env = {**os.environ, "AWSEMU_INIT_DIRS": f"{ours}:{localstack}", "AWSEMU_LOG_LEVEL": "warning"}
    for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(key, None)
    log_path = tmp_path / "container.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(ENTRYPOINT), "--port", "0", "--data-dir", str(tmp_path / "data")],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
    try:
        deadline = time.monotonic() + 60
        while "ready hooks done" not in log_path.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()
            time.sleep(0.05)
        text = log_path.read_text()
        assert "awsemu-init: ready hooks done" in text
        endpoint = next(l for l in text.splitlines() if l.startswith("awsemu ready on ")).split()[-1]
        assert out.read_text().splitlines() == [f"sh {endpoint}", "py 000000000000"]
        assert "about to fail" in text
        assert f"awsemu-init: hook {ours / '02-fails.sh'} failed with exit code 3" in text
        assert f"awsemu-init: skipping {ours / '03-not-executable.sh'}: not executable" in text
        assert "04-ignored" not in text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
