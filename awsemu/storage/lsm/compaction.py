"""Compaction policy and the k-way merge that rewrites sorted runs.

Policy: size-tiered. The store is a stack of sorted runs (one SSTable each), newest first. Every
memtable flush pushes a new small run on top. A run's tier is round(log4(size / base)), base being
the typical size of a flushed run, so four runs of a tier merge into one run of the next tier. We merge the first
group of at least MERGE_WIDTH *adjacent* runs that share a tier (adjacent in age, so the merged run
can take their place in the stack without reordering versions). If the stack still grows beyond
MAX_RUNS (runs of awkward sizes), the adjacent window of MERGE_WIDTH runs with the smallest total
size is merged.

Why tiered rather than leveled: this engine is written in Python, where the cost of compaction is
the per-entry work of the merge loop. Tiering rewrites each entry about log4(N / memtable) times;
leveling rewrites it about 10 times per level. Reads pay with more runs to consult: a point read
checks each run's bloom filter (one hash for all runs, a few bit tests each), a scan merges all
runs. With MAX_RUNS bounded this stays a small constant.

The merge keeps, for each key, only the version from the newest input run. Tombstones are dropped
only when the group includes the oldest run of the store (nothing older could be uncovered).
Snapshots do not constrain compaction: a snapshot holds references to the runs it was taken on,
whose files stay readable (open descriptors) after they are replaced and unlinked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

from awsemu.storage.lsm.merge import Chunk, merge_chunks
from awsemu.storage.lsm.sstable import Table, TableBuilder

MERGE_WIDTH = 4
MAX_RUNS = 12
TIER_FACTOR = 4


def tier_of(size: int, base: int) -> int:
    """Tier of a run; base is the typical size of a freshly flushed run.

    Rounded, not floored, so that four merged base runs (4x base) land one tier up even when
    deduplication made the result a little smaller.
    """
    if size <= base:
        return 0
    return max(0, round(math.log(size / base, TIER_FACTOR)))


def pick_runs(sizes: Sequence[int], base: int) -> tuple[int, int] | None:
    """Choose runs to merge as a slice [lo, hi) of the newest-first run stack, or None."""
    n = len(sizes)
    tiers = [tier_of(s, base) for s in sizes]
    i = 0
    while i < n:
        j = i + 1
        while j < n and tiers[j] == tiers[i]:
            j += 1
        if j - i >= MERGE_WIDTH:
            return i, j
        i = j
    if n > MAX_RUNS:
        best = min(range(n - MERGE_WIDTH + 1), key=lambda lo: sum(sizes[lo : lo + MERGE_WIDTH]))
        return best, best + MERGE_WIDTH
    return None


def _checked(table: Table, check_cancel: Callable[[], None]) -> Iterator[Chunk]:
    for chunk in table.iter_blocks(None, None, fill_cache=False):
        check_cancel()
        yield chunk


def merge_tables(
    tables: Sequence[Table],
    builder: TableBuilder,
    drop_tombstones: bool,
    check_cancel: Callable[[], None],
) -> None:
    """Write the merge of `tables` (newest first) into `builder`.

    `check_cancel` is called once per input block and may raise to abandon the merge (DB close).
    """
    for keys, values in merge_chunks([_checked(t, check_cancel) for t in tables]):
        builder.add_many(keys, values, drop_tombstones)
