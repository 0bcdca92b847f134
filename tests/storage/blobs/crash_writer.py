"""Child process of test_crash.py: writes blobs and records forever until it is SIGKILLed.

For each body: ``BlobStore.write`` then one LSM batch holding the caller's record and the blob
reference, or (every other body, at random) ``write(..., commit=...)`` with the manifest in that
same batch; only then it prints ``ACK <n> <blob_id> <sha256>`` (flushed), so every ACK names a
body that must survive the kill.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from awsemu.storage.blobs import BlobRef, BlobStore
from awsemu.storage.lsm import DB
from awsemu.storage.lsm.keycodec import encode

STRIPE = 64 * 1024


async def pieces(data: bytes, rng: random.Random) -> AsyncIterator[bytes]:
    pos = 0
    while pos < len(data):
        n = rng.randint(1, 40_000)
        yield data[pos : pos + n]
        pos += n
        await asyncio.sleep(0)


async def main(root: Path, seed: int) -> None:
    rng = random.Random(seed)
    db = DB.open(root / "meta")
    store = BlobStore.open(db, root, stripe_bytes=STRIPE, inline_max=2048)
    n = seed * 100_000  # distinct record numbers when several runs share a data dir
    while True:
        size = rng.choice([0, 5, 2048, 2049, STRIPE, rng.randint(0, 6 * STRIPE)])
        body = rng.randbytes(size)
        record = encode("crash", n)
        if rng.random() < 0.5:
            ref = await store.write(pieces(body, rng))
            db.write_batch([(record, ref.blob_id.encode()), *store.ref_ops(ref.blob_id, f"crash:{n}")])
        else:  # the manifest joins the record's batch, written on the store's worker

            def commit(ref: BlobRef, ops: list[tuple[bytes, bytes | None]], record: bytes = record,
                       owner: str = f"crash:{n}") -> BlobRef:
                db.write_batch([(record, ref.blob_id.encode()), *ops, *store.ref_ops(ref.blob_id, owner)])
                return ref

            ref = await store.write(pieces(body, rng), commit=commit)
        print(f"ACK {n} {ref.blob_id} {hashlib.sha256(body).hexdigest()}", flush=True)
        n += 1


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
