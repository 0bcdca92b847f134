"""Writer process for test_crash.py: writes forever and reports each acknowledged write on stdout.

Run as ``python crash_child.py <dir> <trial> <seed>``. Every key is unique, so the parent can
check each report independently:
  P <key> <value-len>   a put returned
  d <key>               a delete of a key whose put was acknowledged is about to start (killed
                        before its D line, the key may hold its value or be gone: both are right)
  D <key>               that delete returned
  B <batch-id> <n>      a batch of n puts returned (keys b/<trial>/<batch-id>/<j>/<n>)
Small memtables make flushes and compactions happen all the time, so a SIGKILL at a random moment
lands in log writes, flushes and compactions alike.
"""

from __future__ import annotations

import random
import sys

from awsemu.storage.lsm import DB, DBOptions


def value_for(key: bytes, length: int) -> bytes:
    return (key * (length // max(1, len(key)) + 1))[:length]


def main() -> None:
    path, trial, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    db = DB.open(path, DBOptions(memtable_bytes=24 * 1024, block_bytes=512, block_cache_bytes=256 * 1024))
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    acked_puts: list[bytes] = []
    i = 0
    while True:
        i += 1
        roll = rng.random()
        if roll < 0.55:
            key = b"p/%d/%d" % (trial, i)
            length = rng.randrange(1, 1500)
            db.put(key, value_for(key, length))
            acked_puts.append(key)
            out.write(f"P {key.decode()} {length}\n")
        elif roll < 0.85:
            n = rng.randrange(1, 9)
            ops = [(b"b/%d/%d/%d/%d" % (trial, i, j, n), b"x" * rng.randrange(0, 600)) for j in range(n)]
            db.write_batch(ops)
            out.write(f"B {i} {n}\n")
        elif roll < 0.97 and acked_puts:
            key = acked_puts.pop(rng.randrange(len(acked_puts)))
            out.write(f"d {key.decode()}\n")
            out.flush()
            db.delete(key)
            out.write(f"D {key.decode()}\n")
        elif roll < 0.99:
            db.flush()
        else:
            db.compact()
        out.flush()


if __name__ == "__main__":
    main()
