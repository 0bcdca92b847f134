"""Which Python runs a ``python3.N`` function: a matching local interpreter, else the server's own.

Lambda runs ``python3.12`` functions on Python 3.12; awsemu looks for an interpreter that reports
exactly that minor version, in this order:

1. the server's interpreter, when it is that version (its fork server already exists);
2. ``python3.N`` on the server's PATH;
3. interpreters installed by pyenv (``$PYENV_ROOT/versions/*/bin``, default ``~/.pyenv``) or uv
   (``~/.local/share/uv/python/*/bin``) but not active in this shell — a pyenv shim on PATH answers
   "command not found" for versions that are installed but not selected.

Every candidate is run once (``-c`` printing its version and real executable, so a shim resolves to
the binary it stands for) and accepted only if the version matches. Without a match the function
runs on the server's interpreter and the server logs one warning for that runtime.

AWS's Python runtimes ship boto3. A foreign interpreter gets the server's copy of the AWS SDK (pure
Python packages) through :func:`sdk_dir`: a directory of symlinks to them, appended to the end of
``sys.path`` so an SDK installed in that interpreter itself wins — when that SDK supports the
interpreter's version (:func:`sdk_supports`; otherwise the function has the SDK its Python has).
"""

from __future__ import annotations

import glob
import importlib.metadata
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("awsemu.lambda")

PROBE = "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"
PROBE_TIMEOUT_S = 15.0
# The AWS SDK and its pure-Python dependencies, as the Lambda Python runtimes include them.
SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


def runtime_version(runtime: str) -> str | None:
    """``"python3.12"`` -> ``"3.12"`` (None for other runtimes)."""
    if not runtime.startswith("python"):
        return None
    version = runtime[len("python"):]
    major, _, minor = version.partition(".")
    return version if major.isdigit() and minor.isdigit() else None


def _candidates(version: str) -> list[str]:
    name = f"python{version}"
    found = []
    on_path = shutil.which(name, path=os.environ.get("PATH", os.defpath))
    if on_path:
        found.append(on_path)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    uv_root = os.path.expanduser("~/.local/share/uv/python")
    for pattern in (os.path.join(pyenv_root, "versions", f"{version}*", "bin", name),
                    os.path.join(uv_root, f"cpython-{version}*", "bin", name)):
        found += sorted(glob.glob(pattern), reverse=True)  # the newest patch release first
    return found


def _probe(candidate: str, version: str) -> str | None:
    """The real executable behind ``candidate`` if it runs and is Python ``version``."""
    try:
        out = subprocess.run([candidate, "-c", PROBE], capture_output=True, text=True,
                             timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.split("\n")
    if out.returncode != 0 or len(lines) < 2 or lines[0] != version:
        return None
    return lines[1] or candidate


def find_python(version: str) -> str | None:
    """An interpreter of Python ``version`` (``"3.12"``), or None (blocking: it runs candidates)."""
    if "%d.%d" % sys.version_info[:2] == version:
        return sys.executable
    for candidate in _candidates(version):
        executable = _probe(candidate, version)
        if executable:
            return executable
    return None


def resolve(runtime: str) -> str:
    """The interpreter for ``runtime``; the server's (with one warning per call) when none matches.

    Callers cache the answer per runtime (pool.py), so the warning is logged once per runtime.
    """
    version = runtime_version(runtime)
    found = find_python(version) if version else None
    if found is None:
        log.warning("no Python %s interpreter found (PATH, pyenv, uv): %s functions run on the server's "
                    "Python %d.%d", version, runtime, *sys.version_info[:2])
        return sys.executable
    log.info("%s functions run on %s", runtime, found)
    return found


def sdk_supports(version: str) -> bool:
    """Whether the server's AWS SDK runs on Python ``version`` (its packages' Requires-Python: boto3
    1.44 needs 3.10, so python3.9 functions get no SDK rather than one that fails to import)."""
    wanted = tuple(int(part) for part in version.split("."))
    for name in ("boto3", "botocore", "s3transfer", "urllib3"):
        try:
            requires = importlib.metadata.metadata(name).get("Requires-Python") or ""
        except importlib.metadata.PackageNotFoundError:
            continue
        match = re.search(r">=\s*(\d+)\.(\d+)", requires)
        if match and wanted < (int(match.group(1)), int(match.group(2))):
            return False
    return True


def sdk_dir(root: Path) -> str | None:
    """A directory of symlinks to the server's AWS SDK packages (for interpreters other than the
    server's that :func:`sdk_supports`); None when the server has no boto3."""
    target = root / "python-sdk"
    target.mkdir(parents=True, exist_ok=True)
    for name in SDK_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            if name == "boto3":
                return None
            continue
        source = Path(spec.origin)
        if source.name == "__init__.py":
            source = source.parent
        link = target / source.name
        if link.is_symlink() and os.readlink(link) != str(source):
            link.unlink()  # left by a server whose SDK lived elsewhere
        if not link.is_symlink():
            try:
                link.symlink_to(source)
            except FileExistsError:
                pass
    return str(target)
