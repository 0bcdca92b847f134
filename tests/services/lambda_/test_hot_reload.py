"""Hot reload: Code={"S3Bucket": "hot-reload", "S3Key": <absolute dir>} runs the handler straight
from a local directory, and an edit on disk applies to the very next invoke (module state restarts
with it); an unchanged directory keeps the warm environment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_helpers import ROLE, error_of, python_zip

SOURCE = """
import os
CALLS = []

def handler(event, context):
    CALLS.append(1)
    return {{"version": {version}, "calls": len(CALLS), "pid": os.getpid()}}
"""


def write_handler(directory: Path, version: int) -> None:
    path = directory / "lambda_function.py"
    path.write_text(SOURCE.format(version=version))
    # an edit within the same clock tick must still count: move the mtime on explicitly
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + version * 1_000_000_000))


def call(lam: Any, name: str) -> dict[str, Any]:
    out = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in out, out["Payload"].read()
    return json.loads(out["Payload"].read())  # type: ignore[no-any-return]


def test_edits_on_disk_apply_to_the_next_invoke(lam: Any, fname: str, tmp_path: Path) -> None:
    write_handler(tmp_path, 1)
    created = lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE,
                                  Handler="lambda_function.handler",
                                  Code={"S3Bucket": "hot-reload", "S3Key": str(tmp_path)})
    assert created["CodeSize"] == 0 and created["CodeSha256"]
    first = call(lam, fname)
    again = call(lam, fname)
    assert (first["version"], first["calls"]) == (1, 1)
    assert (again["version"], again["calls"], again["pid"]) == (1, 2, first["pid"]), "unchanged: warm reuse"
    write_handler(tmp_path, 2)
    edited = call(lam, fname)
    assert (edited["version"], edited["calls"]) == (2, 1), "the edit runs, in a fresh environment"
    (tmp_path / "helper.py").write_text("X = 1\n")  # a new file counts as an edit too
    assert call(lam, fname)["calls"] == 1
    # back to a packaged function: the directory no longer matters
    updated = lam.update_function_code(FunctionName=fname, ZipFile=python_zip(SOURCE.format(version=3)))
    assert updated["CodeSize"] > 0
    write_handler(tmp_path, 4)
    assert call(lam, fname)["version"] == 3
    # and a packaged function can move to a directory
    lam.update_function_code(FunctionName=fname, S3Bucket="hot-reload", S3Key=str(tmp_path))
    assert lam.get_function_configuration(FunctionName=fname)["CodeSize"] == 0
    assert call(lam, fname)["version"] == 4


def test_hot_reload_path_must_be_an_existing_absolute_directory(lam: Any, fname: str, tmp_path: Path) -> None:
    for key in ("relative/dir", str(tmp_path / "missing")):
        with pytest.raises(ClientError) as exc:
            lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE,
                                Handler="lambda_function.handler", Code={"S3Bucket": "hot-reload", "S3Key": key})
        code, message, status = error_of(exc)
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert key in message and "hot-reload" in message
