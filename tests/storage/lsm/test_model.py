"""Stateful property test: the engine behaves like a dict, through flushes, compactions and reopens."""

from __future__ import annotations

import shutil
import tempfile

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from awsemu.storage.lsm import DB, DBOptions, Snapshot, WriteBatch

# A small key space makes overwrites, deletes of existing keys and range edges frequent.
keys = st.one_of(st.sampled_from([b"", b"a", b"ab", b"b", b"ba", b"c", b"\x00", b"\xff", b"\xff\xff"]), st.binary(max_size=3))
values = st.binary(max_size=60)
bounds = st.one_of(st.none(), keys)


def expected_scan(
    model: dict[bytes, bytes], start: bytes | None, end: bytes | None, reverse: bool, limit: int | None
) -> list[tuple[bytes, bytes]]:
    items = sorted(
        (k, v) for k, v in model.items() if (start is None or k >= start) and (end is None or k < end)
    )
    if reverse:
        items.reverse()
    return items if limit is None else items[:limit]


class EngineVsDict(RuleBasedStateMachine):
    background = False

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="lsm-model-")
        # tiny sizes so a short run crosses memtable flushes, many blocks per table and compactions
        self.options = DBOptions(
            memtable_bytes=3000,
            block_bytes=128,
            block_cache_bytes=4096,
            background_compaction=self.background,
        )
        self.db = DB.open(self.dir, self.options)
        self.model: dict[bytes, bytes] = {}
        self.snaps: list[tuple[Snapshot, dict[bytes, bytes]]] = []

    snapshots = Bundle("snapshots")

    @rule(key=keys, value=values)
    def put(self, key: bytes, value: bytes) -> None:
        self.db.put(key, value)
        self.model[key] = value

    @rule(key=keys)
    def delete(self, key: bytes) -> None:
        self.db.delete(key)
        self.model.pop(key, None)

    @rule(ops=st.lists(st.tuples(keys, st.one_of(st.none(), values)), max_size=12), as_object=st.booleans())
    def batch(self, ops: list[tuple[bytes, bytes | None]], as_object: bool) -> None:
        if as_object:
            wb = WriteBatch()
            for k, v in ops:
                if v is None:
                    wb.delete(k)
                else:
                    wb.put(k, v)
            self.db.write_batch(wb)
        else:
            self.db.write_batch(ops)
        for k, v in ops:
            if v is None:
                self.model.pop(k, None)
            else:
                self.model[k] = v

    @rule(key=keys)
    def get(self, key: bytes) -> None:
        assert self.db.get(key) == self.model.get(key)

    @rule(start=bounds, end=bounds, reverse=st.booleans(), limit=st.one_of(st.none(), st.integers(0, 5)))
    def scan(self, start: bytes | None, end: bytes | None, reverse: bool, limit: int | None) -> None:
        got = list(self.db.scan(start, end, reverse=reverse, limit=limit))
        assert got == expected_scan(self.model, start, end, reverse, limit)

    @rule(key=keys, value=values)
    def scan_is_stable_while_writing(self, key: bytes, value: bytes) -> None:
        it = self.db.scan()
        expected = expected_scan(self.model, None, None, False, None)
        first = next(it, None)
        self.put(key, value)
        self.delete(expected[-1][0] if expected else key)
        rest = list(it)
        assert ([first] if first is not None else []) + rest == expected

    @rule(target=snapshots)
    def take_snapshot(self) -> int:
        self.snaps.append((self.db.snapshot(), dict(self.model)))
        return len(self.snaps) - 1

    @rule(i=snapshots, key=keys, start=bounds, end=bounds, reverse=st.booleans())
    def read_snapshot(self, i: int, key: bytes, start: bytes | None, end: bytes | None, reverse: bool) -> None:
        snap, frozen = self.snaps[i]
        if snap is None:
            return
        assert snap.get(key) == frozen.get(key)
        assert list(snap.scan(start, end, reverse=reverse)) == expected_scan(frozen, start, end, reverse, None)

    @rule(i=snapshots)
    def close_snapshot(self, i: int) -> None:
        snap, frozen = self.snaps[i]
        if snap is not None:
            snap.close()
            self.snaps[i] = (None, frozen)  # type: ignore[assignment]

    @rule()
    def flush(self) -> None:
        self.db.flush()

    @rule()
    def compact(self) -> None:
        self.db.compact()
        if not self.background:
            assert self.db.stats()["sstables"] <= 1

    @rule()
    def reopen(self) -> None:
        self.db.close()
        self.db.close()  # idempotent
        self.db = DB.open(self.dir, self.options)

    @invariant()
    def full_scan_matches(self) -> None:
        assert list(self.db.scan()) == sorted(self.model.items())

    def teardown(self) -> None:
        for snap, _ in self.snaps:
            if snap is not None:
                snap.close()
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class EngineVsDictBackground(EngineVsDict):
    background = True


TestEngineVsDict = EngineVsDict.TestCase
TestEngineVsDict.settings = settings(max_examples=120, stateful_step_count=80, deadline=None)
TestEngineVsDictBackground = EngineVsDictBackground.TestCase
TestEngineVsDictBackground.settings = settings(max_examples=50, stateful_step_count=80, deadline=None)


class TestEngineVsDictLong(EngineVsDict.TestCase):  # type: ignore[name-defined,misc]
    """The same model check, much longer (make test-long)."""

    pytestmark = pytest.mark.long
    settings = settings(max_examples=1500, stateful_step_count=120, deadline=None)


class TestEngineVsDictBackgroundLong(EngineVsDictBackground.TestCase):  # type: ignore[name-defined,misc]
    pytestmark = pytest.mark.long
    settings = settings(max_examples=400, stateful_step_count=120, deadline=None)
