"""Function code served from a local directory ("hot reload"): edits on disk apply to the next invoke.

A function created (or updated) with ``Code={"S3Bucket": "hot-reload", "S3Key": "/abs/path/to/dir"}``
is not packaged: its environments import the handler straight from that directory. The bucket name is
the convention LocalStack users already have in their scripts, so they keep working. Nothing is
copied into the blob store, so the version holds no package blob.

Each invoke compares a fingerprint of the directory (the path, modification time and size of every
file, ``__pycache__`` left out) with the one its environments started from. On a change the
function's environments are retired, so the next invoke starts a fresh one on the edited code. Module
state therefore lives exactly as long as the code it came from. The fingerprint also stands in for
CodeSha256: there is no package to hash.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

from awsemu.services.lambda_.errors import InvalidParameterValueException

HOT_RELOAD_BUCKET = "hot-reload"


def local_code_dir(code: dict[str, Any]) -> str | None:
    """The directory a Code parameter points at, or None when it is a package (zip or S3 object)."""
    if code.get("ZipFile") is not None or code.get("S3Bucket") != HOT_RELOAD_BUCKET:
        return None
    key = code.get("S3Key") or ""
    path = Path(key)
    if not path.is_absolute() or not path.is_dir():
        raise InvalidParameterValueException(
            f"Hot-reload code path {key!r} must be an absolute path to an existing directory "
            f"(S3Bucket {HOT_RELOAD_BUCKET!r}, S3Key the directory).")
    return str(path.resolve())


def fingerprint(directory: str) -> str:
    """Base64 SHA-256 over (relative path, mtime, size) of every file under ``directory``."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            full = os.path.join(root, name)
            try:
                st = os.stat(full)
            except OSError:  # removed while we walk: the next invoke sees the settled tree
                continue
            digest.update(f"{os.path.relpath(full, directory)}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return base64.b64encode(digest.digest()).decode()
