"""Range reads: a byte range of a blob streamed run by run, every block verified, rebuilt if bad.

``BlobStore.read`` and ``iter_read`` are this module's ``BlobReader``. A read first *plans*: the
range is mapped onto leaf blobs (a composite maps to the parts its range overlaps; an inline
body is sliced from its manifest) and each leaf's part is cut into *runs* of ``read_batch``
stripes, one job each.

Reads stream run by run: a job reads its stripes with one ``preadv`` per data shard file,
straight into a buffer from a store-wide pool that hands a buffer out again only once nobody
holds a view of it (see ``buffers.py``), and ``read_ahead`` jobs run at once, so one run is
copied and checked while another is. The event loop reads too: when its next run is not ready, it
reads the next unclaimed run itself if the page cache holds all of it (``RWF_NOWAIT``: it never
waits for a disk), and leaves anything else to the workers; see ``readahead.py`` for why waiting
was the cost. A range touches only the stripes — and within a stripe only the data blocks — that
hold its bytes; parity is not read while the data blocks are good.

Every block used is verified by its CRC trailer (``ShardReader.read_run``, right after each
shard's ``preadv``); a stripe with a bad or missing block is redone block by block
(``_read_stripe``), decoding from any k good ones. Bad blocks are logged (once per shard per
read) and counted in the store's ``stats()``; ``scrub()`` repairs them (see ``scrub.py``).
Fewer than k good blocks in a stripe raise ``BlobUnrecoverable``, naming the bad drives.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path

from . import codec
from .buffers import RecyclingBuffers
from .errors import BlobUnrecoverable
from .manifest import COMPOSITE, INLINE, Manifest
from .readahead import ReadAhead
from .shards import NOWAIT, ShardReader, shard_path

log = logging.getLogger("awsemu.storage.blobs")

#: What reads yield: at most one stripe per chunk, usually a view of a pooled read buffer. The
#: store reuses a buffer only once no view of it exists anywhere, so a consumer may keep chunks
#: (it just keeps their buffers out of the pool) or pass them on as they are.
Chunk = bytes | memoryview

#: A leaf blob's manifest and the ``[lo, hi)`` of its body a read wants.
Piece = tuple[Manifest, int, int]


class BlobReader:
    """Streams byte ranges of a store's blobs; one per store, shared by all its reads.

    ``manifest(blob_id)`` looks a manifest up (raising BlobNotFound), ``count(**deltas)`` adds
    to the store's counters; jobs run on ``pool``. See ``BlobStore`` for ``read_ahead`` and
    ``read_batch``. The reader owns the run buffers every read of the store shares.
    """

    def __init__(
        self,
        drives: Sequence[Path],
        pool: concurrent.futures.Executor,
        manifest: Callable[[str], Manifest],
        count: Callable[..., None],
        *,
        read_ahead: int,
        read_batch: int,
    ) -> None:
        self.drives = drives
        self.read_ahead = read_ahead
        self.read_batch = read_batch
        self._pool = pool
        self._manifest = manifest
        self._count = count
        self._buffers: dict[int, RecyclingBuffers] = {}  # full-run buffers of all reads, per size

    async def read(self, blob_id: str, start: int = 0, end: int | None = None) -> AsyncIterator[Chunk]:
        """Bytes ``[start, end)`` of the blob, stripe by stripe (see ``BlobStore.read``)."""
        loop = asyncio.get_running_loop()
        man = await loop.run_in_executor(self._pool, self._manifest, blob_id)
        for piece_man, lo, hi in await loop.run_in_executor(self._pool, self._plan, man, start, end):
            if piece_man.kind == INLINE:
                if hi > lo:
                    yield piece_man.body[lo:hi]
                continue
            # ``read_ahead`` worker tasks read runs ahead of the consumer (preadv releases the
            # GIL, so runs are copied on several cores at once); a consumer that would wait reads
            # the next run itself when the page cache holds all of it (see readahead.py)
            reader = await loop.run_in_executor(
                self._pool, ShardReader, self.drives, piece_man.blob_id, piece_man.geometry, piece_man.rot
            )
            buffers = self._run_buffers(piece_man)
            ahead: ReadAhead[list[Chunk]] = ReadAhead(
                self._pool,
                functools.partial(self._read_run, piece_man, reader, buffers),
                self._runs(piece_man, lo, hi),
                window=self.read_ahead + 1,
                workers=self.read_ahead,
                on_idle=reader.close,
                inline=functools.partial(self._read_cached_run, piece_man, reader, buffers) if NOWAIT else None,
            )
            try:
                for _ in range(len(ahead)):
                    chunks = await ahead.next()
                    while chunks:
                        yield chunks.pop(0)  # no reference left here once the consumer has it
            finally:
                ahead.close()

    def iter_read(self, blob_id: str, start: int = 0, end: int | None = None) -> Iterator[Chunk]:
        """Synchronous twin of ``read``: every run on the calling thread, no read-ahead."""
        for piece_man, lo, hi in self._plan(self._manifest(blob_id), start, end):
            if piece_man.kind == INLINE:
                if hi > lo:
                    yield piece_man.body[lo:hi]
                continue
            reader = ShardReader(self.drives, piece_man.blob_id, piece_man.geometry, piece_man.rot)
            buffers = self._run_buffers(piece_man)
            try:
                for job in self._runs(piece_man, lo, hi):
                    yield from self._read_run(piece_man, reader, buffers, *job)
            finally:
                reader.close()

    # -- planning -------------------------------------------------------------------------------

    def _plan(self, man: Manifest, start: int, end: int | None) -> list[Piece]:
        """(leaf manifest, lo, hi) pieces covering ``[start, end)``; composites map to their parts."""
        end = man.size if end is None else min(end, man.size)
        start = max(0, start)
        if start >= end:
            return []
        if man.kind != COMPOSITE:
            return [(man, start, end)]
        pieces: list[Piece] = []
        offset = 0
        for pid, psize in man.parts:
            lo, hi = max(start, offset), min(end, offset + psize)
            if lo < hi:
                pieces.append((self._manifest(pid), lo - offset, hi - offset))
            offset += psize
        return pieces

    def _runs(self, man: Manifest, lo: int, hi: int) -> list[tuple[int, int]]:
        """``[lo, hi)`` cut at every ``read_batch``-th stripe boundary: one worker job each."""
        step = man.stripe_bytes * self.read_batch
        cuts = [lo, *range(lo - lo % step + step, hi, step), hi]
        return list(itertools.pairwise(cuts))

    def _run_buffers(self, man: Manifest) -> RecyclingBuffers:
        """The buffers for full runs of ``man``'s geometry, shared by every read of the store.

        Sharing is what makes them cheap: a read reuses the buffers an earlier read left instead
        of allocating fresh ones (``bytearray(n)`` zero-fills, with the GIL held, memory whose
        pages then fault in one by one). The pool keeps one read's worth (the read-ahead window
        plus the run the consumer holds); a buffer is handed out again only once nothing refers
        to it, so concurrent reads never share one: reads beyond the pool get fresh buffers.
        """
        g = man.geometry
        size = g.k * g.full_block * self.read_batch
        pool = self._buffers.get(size)
        if pool is None:
            pool = self._buffers.setdefault(size, RecyclingBuffers(size, self.read_ahead + 2))
        return pool

    # -- runs and stripes -----------------------------------------------------------------------

    def _read_run(
        self, man: Manifest, reader: ShardReader, buffers: RecyclingBuffers, lo: int, hi: int
    ) -> list[Chunk]:
        """Verified body bytes ``[lo, hi)`` of a run of stripes (one worker job), in order.

        The healthy case reads the run in one go (``ShardReader.read_run``) into a buffer and
        hands out one view of it per stripe (never more than a stripe per chunk, whatever
        ``read_batch`` is: consumers see the same chunking); a stripe with a bad block is redone
        by ``_read_stripe``, which rebuilds it from any k good blocks.
        """
        g = man.geometry
        into, spans = reader.read_run(lo, hi, buffers.take)
        buf = memoryview(into)
        del into  # only the views handed out may keep the buffer busy (see buffers.py)
        out: list[Chunk] = []
        good = 0
        for s, span in zip(g.stripes_for(lo, hi), spans, strict=True):
            if span is not None:
                out.append(buf[span[0] : span[1]])
                good += span[1] - span[0]
            else:
                s_lo, s_hi = max(lo, s * g.stripe_bytes), min(hi, (s + 1) * g.stripe_bytes)
                out.append(self._read_stripe(man, reader, s, s_lo, s_hi))
        if good:
            self._count(stripes_read=sum(span is not None for span in spans), bytes_read=good)
        return out

    def _read_cached_run(
        self, man: Manifest, reader: ShardReader, buffers: RecyclingBuffers, lo: int, hi: int
    ) -> list[Chunk] | None:
        """``_read_run`` for the event loop: None unless the page cache holds the whole run and
        every block verifies (a worker then reads it with ``_read_run``, and reports what is bad)."""
        got = reader.read_run(lo, hi, buffers.take, nowait=True)
        if got is None:
            return None
        buf = memoryview(got[0])
        spans: list[tuple[int, int]] = got[1]  # type: ignore[assignment]  # no None with nowait
        del got
        self._count(stripes_read=len(spans), bytes_read=sum(end - start for start, end in spans))
        return [buf[start:end] for start, end in spans]

    def _read_stripe(self, man: Manifest, reader: ShardReader, stripe: int, lo: int, hi: int) -> Chunk:
        """Body bytes ``[lo, hi)`` (blob offsets) of one stripe, verified, rebuilt if needed.

        Healthy case: only the data blocks overlapping the range are read, straight into one
        buffer, and a view of the wanted bytes is returned (no decode, no extra copy).
        """
        g = man.geometry
        base = stripe * g.stripe_bytes
        blen = g.block_len(stripe)
        first, last = (lo - base) // blen, (hi - 1 - base) // blen
        buf = memoryview(bytearray((last - first + 1) * blen))
        good: dict[int, memoryview] = {}
        bad: dict[int, str] = {}
        for j in range(first, last + 1):
            block, why, _ = reader.read_block(j, stripe, buf[(j - first) * blen : (j - first + 1) * blen])
            if block is None:
                bad[j] = why
            else:
                good[j] = block
        head = lo - base - first * blen
        if not bad:
            self._count(stripes_read=1, bytes_read=hi - lo)
            return buf[head : head + hi - lo]
        # fetch more blocks (other data blocks first: cheaper decode) until any k are good
        for j in range(g.n):
            if len(good) >= g.k:
                break
            if j in good or j in bad:
                continue
            block, why, _ = reader.read_block(j, stripe)
            if block is None:
                bad[j] = why
            else:
                good[j] = block
        self._report_bad(man, reader, stripe, bad)
        if len(good) < g.k:
            self._count(unrecoverable_reads=1)
            drives = [
                str(shard_path(self.drives, man.blob_id, j, man.rot).parent.parent) for j in sorted(bad)
            ]
            raise BlobUnrecoverable(man.blob_id, stripe, bad, drives)
        data = codec.decode(good, g.k, g.m)
        out = b"".join(data[first : last + 1])[head : head + hi - lo]
        self._count(stripes_read=1, bytes_read=len(out), degraded_stripes_read=1)
        return out

    def _report_bad(self, man: Manifest, reader: ShardReader, stripe: int, bad: dict[int, str]) -> None:
        """Count bad blocks; log and count each bad shard once per read, not once per stripe."""
        fresh = sorted(set(bad) - reader.reported)
        reader.reported.update(fresh)
        self._count(bad_blocks_read=len(bad), bad_shards_read=len(fresh))
        for j in fresh:
            log.warning(
                "blob %s: shard %d on %s is bad (%s at stripe %d)",
                man.blob_id,
                j,
                shard_path(self.drives, man.blob_id, j, man.rot).parent.parent,
                bad[j],
                stripe,
            )
