"""``awsemu scrub``: verify every stored body against its Merkle root and rewrite lost or rotten
shards, on a data dir no server is using (a running server scrubs itself in the background and
shows the last result in ``/_awsemu/health``)."""

from __future__ import annotations

import json
import sys

from awsemu.app import close_storage, open_storage
from awsemu.config import Config
from awsemu.datadir import DataDir, DataDirError


def scrub(config: Config) -> int:
    try:
        data_dir = DataDir.acquire(config.data_dir, ephemeral=False)
    except DataDirError as exc:
        print(f"awsemu: error: {exc}", file=sys.stderr)
        return 1
    try:
        storage = open_storage(data_dir, config)
        try:
            report = storage.blobs.scrub()
        finally:
            close_storage(storage)
    finally:
        data_dir.release()
    data = report.to_dict()
    print(json.dumps(data, indent=2, default=str))
    return 1 if data.get("unrecoverable") else 0
