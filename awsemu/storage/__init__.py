"""Storage engines: ``lsm`` (ordered key-value) and ``blobs`` (erasure-coded bodies).

:class:`Storage` is what providers receive: the open engines of one data directory.
Storage never knows which service uses it; each service owns a key prefix (see its keys.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Storage:
    data_dir: Path
    db: Any  # awsemu.storage.lsm.DB
    blobs: Any = None  # awsemu.storage.blobs.BlobStore (None until that engine is wired)
