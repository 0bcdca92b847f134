"""The data directory: created, checked for use, and locked so two servers never share one.

Layout (DESIGN.md): ``meta/`` lsm engine, ``drives/d0..dN/`` blob shards, ``lambda/`` code.
``--ephemeral`` uses a fresh temporary directory, removed at exit: same engines, same code path.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO


class DataDirError(Exception):
    """The data directory cannot be used; the message is one line for the user."""


@dataclass
class DataDir:
    path: Path
    ephemeral: bool
    _lock: IO[str] | None = None

    @classmethod
    def acquire(cls, path: Path, ephemeral: bool) -> "DataDir":
        if ephemeral:
            path = Path(tempfile.mkdtemp(prefix="awsemu-"))
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / ".write-probe"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise DataDirError(f"data dir {path} is not usable: {exc.strerror or exc}") from None
        lock = open(path / "awsemu.lock", "a+")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            raise DataDirError(f"data dir {path} is in use by another awsemu process") from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        return cls(path, ephemeral, lock)

    @property
    def meta(self) -> Path:
        return self.path / "meta"

    def release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
        if self.ephemeral:
            shutil.rmtree(self.path, ignore_errors=True)
