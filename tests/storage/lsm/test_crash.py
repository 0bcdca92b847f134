"""Crash test: SIGKILL a writer at random moments; every acknowledged write must survive.

The child (crash_child.py) reports each write after it returned. The parent kills it after a
random delay, reopens the store, and checks that every reported put is there with its value,
every reported delete is gone, and every batch - reported or in flight - is all or nothing. The
same store is reused across trials, so later trials also recover stores left by earlier crashes.
`make test` runs 10 trials; `make test-long` (AWSEMU_TEST_LONG=1) runs 200.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from awsemu.storage.lsm import DB, DBOptions
from awsemu.storage.lsm.manifest import read_manifest
from awsemu.storage.lsm.wal import read_log

CHILD = Path(__file__).with_name("crash_child.py")
REPO_ROOT = Path(__file__).resolve().parents[3]


def value_for(key: bytes, length: int) -> bytes:
    return (key * (length // max(1, len(key)) + 1))[:length]


class Acks:
    def __init__(self) -> None:
        self.puts: dict[bytes, int] = {}
        self.deleted: set[bytes] = set()
        self.deleting: dict[bytes, int] = {}  # delete started, not acknowledged: value or absence
        self.batches: dict[tuple[int, int], int] = {}


def run_trial(path: Path, trial: int, rng: random.Random, acks: Acks) -> int:
    """Run one child until killed; record its acknowledgements; return the number of ops acked."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), str(trial), str(rng.randrange(1 << 30))],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None
    lines: list[bytes] = []
    ready = threading.Event()

    def reader() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line == b"READY\n":
                ready.set()
            lines.append(line)
        ready.set()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        assert ready.wait(60), "child did not start"
        time.sleep(rng.uniform(0.02, 0.6))
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait()
        thread.join()
        child.stdout.close()
    assert b"READY\n" in lines, f"child failed to start (exit {child.returncode})"
    count = 0
    for raw in lines:
        if not raw.endswith(b"\n") or raw == b"READY\n":
            continue  # a report cut by the kill: the op may or may not be acknowledged
        kind, *rest = raw.decode().split()
        count += kind != "d"  # an intent is not an acknowledged operation
        if kind == "P":
            acks.puts[rest[0].encode()] = int(rest[1])
        elif kind == "d":
            key = rest[0].encode()
            acks.deleting[key] = acks.puts.pop(key)
        elif kind == "D":
            key = rest[0].encode()
            acks.deleting.pop(key, None)
            acks.deleted.add(key)
        elif kind == "B":
            acks.batches[(trial, int(rest[0]))] = int(rest[1])
    return count


def crash_state(path: Path) -> tuple[bool, bool]:
    """What the kill interrupted, read from the files before recovery touches them:
    (a table was being written by a flush or compaction, the newest log ends in a torn record)."""
    state = read_manifest(str(path))
    live = {run.number for run in state.runs} if state else set()
    building = any(
        f.suffix == ".sst" and int(f.stem) not in live for f in (path / "sst").iterdir()
    ) or (path / "MANIFEST.tmp").exists()
    logs = sorted((path / "wal").glob("*.log"))
    torn = bool(logs) and read_log(str(logs[-1])).torn
    return building, torn


def check(path: Path, acks: Acks) -> int:
    """Reopen and verify; return the number of lost or wrong writes (must be 0)."""
    losses = 0
    with DB.open(path, DBOptions(background_compaction=False)) as db:
        for key, length in acks.puts.items():
            if db.get(key) != value_for(key, length):
                losses += 1
        for key in acks.deleted:
            if db.get(key) is not None:
                losses += 1
        for key, length in acks.deleting.items():  # either outcome is right, nothing else is
            if db.get(key) not in (None, value_for(key, length)):
                losses += 1
        present: dict[tuple[int, int], set[int]] = defaultdict(set)
        sizes: dict[tuple[int, int], int] = {}
        for key, _ in db.scan(b"b/", b"b0"):
            _, trial, batch, j, n = key.split(b"/")
            present[(int(trial), int(batch))].add(int(j))
            sizes[(int(trial), int(batch))] = int(n)
        for batch_id, members in present.items():
            if len(members) != sizes[batch_id]:
                losses += 1  # a torn batch
        for batch_id in acks.batches:
            if len(present.get(batch_id, ())) != acks.batches[batch_id]:
                losses += 1
    return losses


def run_trials(tmp_path: Path, trials: int, seed: int) -> None:
    rng = random.Random(seed)
    acks = Acks()
    path = tmp_path / "store"
    total_ops = 0
    total_losses = 0
    mid_build = 0
    torn_tails = 0
    for trial in range(trials):
        total_ops += run_trial(path, trial, rng, acks)
        building, torn = crash_state(path)
        mid_build += building
        torn_tails += torn
        losses = check(path, acks)
        total_losses += losses
        assert losses == 0, f"trial {trial}: {losses} acknowledged writes lost or torn"
    print(
        f"\ncrash test: {trials} SIGKILL trials, {total_ops} acknowledged ops "
        f"({len(acks.puts)} live puts, {len(acks.deleted)} deletes, {len(acks.batches)} batches), "
        f"losses: {total_losses}; kills during a flush/compaction: {mid_build}, "
        f"leaving a torn log record: {torn_tails}"
    )


def test_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    run_trials(tmp_path, 10, seed=20261127)


@pytest.mark.long
def test_sigkill_loses_no_acknowledged_write_long(tmp_path: Path) -> None:
    trials = 200 if os.environ.get("AWSEMU_TEST_LONG") else 20
    run_trials(tmp_path, trials, seed=random.randrange(1 << 30))
