"""Crash test: SIGKILL a writer mid-stream; no partial body is ever visible, orphans are swept,
every acknowledged body is intact. 10 trials in `make test`, 100 with AWSEMU_TEST_LONG."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from awsemu.storage.blobs import BlobStore
from awsemu.storage.blobs.shards import iter_shard_files
from awsemu.storage.lsm import DB
from awsemu.storage.lsm.keycodec import decode, encode, prefix_end

WRITER = Path(__file__).with_name("crash_writer.py")


def run_trial(root: Path, seed: int) -> None:
    rng = random.Random(seed)
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(root), str(seed)], stdout=subprocess.PIPE, text=True
    )
    acked: dict[int, tuple[str, str]] = {}
    try:
        assert proc.stdout is not None
        want = rng.randint(1, 12)
        while len(acked) < want:
            line = proc.stdout.readline()
            assert line, f"writer exited early with {proc.poll()}"
            _, n, blob_id, digest = line.split()
            acked[int(n)] = (blob_id, digest)
        time.sleep(rng.uniform(0, 0.03))  # land somewhere inside the next write
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            for line in proc.stdout.read().splitlines():  # ACKs printed before the kill landed
                _, n, blob_id, digest = line.split()
                acked[int(n)] = (blob_id, digest)
            proc.stdout.close()

    db = DB.open(root / "meta")
    store = BlobStore.open(db, root, stripe_bytes=64 * 1024, inline_max=2048)
    try:
        store.start_up_sweep()
        start = encode("crash")
        records = {decode(k)[1]: v.decode() for k, v in db.scan(start, prefix_end(start))}
        for n, (blob_id, digest) in acked.items():
            assert records.get(n) == blob_id, f"acknowledged record {n} lost"
            body = b"".join(bytes(c) for c in store.iter_read(blob_id))
            assert hashlib.sha256(body).hexdigest() == digest, f"acknowledged body {n} damaged"
        # every visible blob is whole: it reads to its full size with the MD5 it was committed with
        visible = [b for b, has_manifest, _ in store.iter_blobs() if has_manifest]
        assert sorted(visible) == sorted(records.values())
        for blob_id in visible:
            man = store.manifest(blob_id)
            body = b"".join(bytes(c) for c in store.iter_read(blob_id))
            assert len(body) == man.size and hashlib.md5(body).hexdigest() == man.md5
        # no orphan shard files remain
        assert {b for _, b in iter_shard_files(store.drives)} <= set(visible)
    finally:
        store.close()
        db.close()


def test_sigkill_during_writes(tmp_path: Path) -> None:
    for trial in range(10):
        run_trial(tmp_path / f"t{trial}", trial)


@pytest.mark.long
def test_sigkill_during_writes_long(tmp_path: Path) -> None:
    trials = 100 if os.environ.get("AWSEMU_TEST_LONG") else 20
    for trial in range(trials):
        # several kills on the same data dir: recovery after recovery
        run_trial(tmp_path / f"t{trial % 10}", 1000 + trial)
