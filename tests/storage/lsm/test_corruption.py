"""Damaged files: a torn or corrupt WAL tail is dropped; a damaged SSTable or MANIFEST is an error
that names the file - never silently wrong or missing data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from awsemu.storage.lsm import DB, CorruptionError, DBOptions
from awsemu.storage.lsm.block_cache import BlockCache
from awsemu.storage.lsm.sstable import Table

OPTS = DBOptions(background_compaction=False, block_bytes=256, memtable_bytes=1 << 20)


def key(i: int) -> bytes:
    return b"key-%05d" % i


def value(i: int) -> bytes:
    return b"value-%05d-" % i + b"x" * 40


def flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes((byte[0] ^ 0x5A,)))


def make_table_store(path: Path, n: int = 300) -> Path:
    with DB.open(path, OPTS) as db:
        db.write_batch([(key(i), value(i)) for i in range(n)])
        db.flush()
    (sst,) = list((path / "sst").iterdir())
    return sst


def test_flipped_data_block_is_reported_on_read(tmp_path: Path) -> None:
    sst = make_table_store(tmp_path)
    table = Table(str(sst), 0, BlockCache(0))
    victim = table.block_count // 2
    offset = table.block_offset(victim) + 5
    first_key_in_victim = table._block(victim, table.load_meta()).key_at(0)
    table.close()
    flip(sst, offset)
    with DB.open(tmp_path, OPTS) as db:
        assert db.get(key(0)) == value(0)  # other blocks still serve
        with pytest.raises(CorruptionError) as err:
            db.get(first_key_in_victim)
        assert str(sst) in str(err.value) and err.value.path == str(sst)
        with pytest.raises(CorruptionError, match=str(sst)):
            list(db.scan())
        with pytest.raises(CorruptionError, match=str(sst)):
            db.compact()


@pytest.mark.parametrize("where", ["footer", "index", "bloom", "truncated"])
def test_damaged_table_metadata_fails_open(tmp_path: Path, where: str) -> None:
    sst = make_table_store(tmp_path)
    size = sst.stat().st_size
    if where == "footer":
        flip(sst, size - 20)
    elif where == "truncated":
        os.truncate(sst, size - 7)
    else:
        table = Table(str(sst), 0, BlockCache(0))
        table.close()
        flip(sst, (table.index_offset if where == "index" else table.bloom_offset) + 3)
    with pytest.raises(CorruptionError) as err:
        DB.open(tmp_path, OPTS)
    assert err.value.path == str(sst)


def test_missing_table_fails_open(tmp_path: Path) -> None:
    sst = make_table_store(tmp_path)
    sst.unlink()
    with pytest.raises(CorruptionError, match="missing") as err:
        DB.open(tmp_path, OPTS)
    assert err.value.path == str(sst)


def test_flipped_manifest_fails_open(tmp_path: Path) -> None:
    make_table_store(tmp_path)
    manifest = tmp_path / "MANIFEST"
    flip(manifest, manifest.stat().st_size - 3)
    with pytest.raises(CorruptionError) as err:
        DB.open(tmp_path, OPTS)
    assert err.value.path == str(manifest)


@pytest.mark.parametrize("with_tables", [True, False])
def test_missing_manifest_with_data_fails_open(tmp_path: Path, with_tables: bool) -> None:
    if with_tables:
        make_table_store(tmp_path)
    else:
        write_log_only(tmp_path, 5)
    (tmp_path / "MANIFEST").unlink()
    with pytest.raises(CorruptionError, match="MANIFEST is missing") as err:
        DB.open(tmp_path, OPTS)
    assert err.value.path == str(tmp_path / "MANIFEST")


def test_truncated_manifest_fails_open(tmp_path: Path) -> None:
    make_table_store(tmp_path)
    manifest = tmp_path / "MANIFEST"
    os.truncate(manifest, manifest.stat().st_size - 10)
    with pytest.raises(CorruptionError, match="MANIFEST"):
        DB.open(tmp_path, OPTS)


def write_log_only(path: Path, n: int) -> Path:
    with DB.open(path, OPTS) as db:
        for i in range(n):
            db.put(key(i), value(i))
    (log,) = list((path / "wal").iterdir())
    return log


@pytest.mark.parametrize("damage", ["cut-payload", "cut-header", "flip-last", "garbage"])
def test_torn_wal_tail_is_dropped(tmp_path: Path, damage: str) -> None:
    log = write_log_only(tmp_path, 50)
    size = log.stat().st_size
    if damage == "cut-payload":
        os.truncate(log, size - 5)
    elif damage == "cut-header":
        record = size // 50
        os.truncate(log, size - record + 3)
    elif damage == "flip-last":
        flip(log, size - 2)
    else:
        with open(log, "ab") as f:
            f.write(b"\x17\x00\x00\x00\xff\xff")
    lost = damage != "garbage"
    with DB.open(tmp_path, OPTS) as db:
        for i in range(49):
            assert db.get(key(i)) == value(i)
        assert db.get(key(49)) == (None if lost else value(49))
        db.put(b"after", b"recovery")  # appended after the cut, not after the garbage
    with DB.open(tmp_path, OPTS) as db:
        assert db.get(b"after") == b"recovery"
        assert len(list(db.scan())) == (50 if lost else 51)


def test_corrupt_batch_is_dropped_whole(tmp_path: Path) -> None:
    with DB.open(tmp_path, OPTS) as db:
        db.put(b"before", b"1")
        db.write_batch([(key(i), value(i)) for i in range(20)])
    (log,) = list((tmp_path / "wal").iterdir())
    flip(log, log.stat().st_size - 300)  # inside the batch record
    with DB.open(tmp_path, OPTS) as db:
        assert db.get(b"before") == b"1"
        assert list(db.scan(key(0), key(99))) == []
