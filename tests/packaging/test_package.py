"""The package users install: the wheel carries the code, data files, command and pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _build_wheel(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheels = list(out.glob("awsemu-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _build_wheel(tmp_path_factory.mktemp("dist"))


def test_wheel_has_code_patches_command_and_plugin(wheel):
    from awsemu import __version__

    assert wheel.name.startswith(f"awsemu-{__version__}-")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "awsemu/protocol/patches/s3.json" in names
        assert "awsemu/protocol/patches/sqs_query.json" in names
        assert "awsemu/testing/plugin.py" in names
        assert not any(n.startswith("tests/") for n in names)
        entry_points = zf.read(f"awsemu-{__version__}.dist-info/entry_points.txt").decode()
        metadata = zf.read(f"awsemu-{__version__}.dist-info/METADATA").decode()
    assert "awsemu = awsemu.cli.main:main" in entry_points
    assert "[pytest11]" in entry_points and "awsemu = awsemu.testing.plugin" in entry_points
    for pin in ("starlette==", "uvicorn[standard]==", "botocore==", "zfec==", "crc32c==", "xmltodict=="):
        assert f"Requires-Dist: {pin}" in metadata


@pytest.mark.long
def test_wheel_installs_into_a_fresh_venv_and_serves(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = env_dir / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", str(wheel)], check=True, timeout=900)
    out = subprocess.run([str(env_dir / "bin" / "awsemu"), "--version"], capture_output=True, text=True, check=True)
    from awsemu import __version__

    assert out.stdout.strip() == f"awsemu {__version__}"
    proc = subprocess.Popen([str(env_dir / "bin" / "awsemu"), "serve", "--port", "0", "--ephemeral"],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "AWSEMU_LOG_LEVEL": "warning"})
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("awsemu ready on http://127.0.0.1:")
    finally:
        proc.terminate()
        code = proc.wait(15)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0
