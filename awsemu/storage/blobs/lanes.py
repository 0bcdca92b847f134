"""Lanes: ordered, bounded processing of a stream of items on a thread pool.

The write path feeds every stripe to several lanes (one per digest, one for shards). Each lane
handles its items strictly in order (a digest must see the body in order; shard files are
appended in order) but lanes run in parallel with each other, so MD5 of stripe s overlaps the
zfec encoding of stripe s. Each lane's queue holds at most ``depth`` items: a producer faster than
the disk waits in ``put``, which is what bounds memory to a few stripes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from typing import Any


class Lanes:
    """Ordered per-lane processing of stripes on a thread pool, with bounded queues."""

    def __init__(
        self, pool: concurrent.futures.Executor, fns: Sequence[Callable[[Any], None]], depth: int
    ) -> None:
        self._pool = pool
        self._queues: list[asyncio.Queue[Any]] = [asyncio.Queue(depth) for _ in fns]
        self._inflight: set[concurrent.futures.Future[None]] = set()
        self._inflight_lock = threading.Lock()  # done-callbacks run on worker threads
        self.error: BaseException | None = None
        self._tasks = [
            asyncio.get_running_loop().create_task(self._run(q, fn))
            for q, fn in zip(self._queues, fns, strict=True)
        ]

    async def _run(self, queue: asyncio.Queue[Any], fn: Callable[[Any], None]) -> None:
        while True:
            item = await queue.get()
            if item is None:
                return
            if self.error is not None:
                continue  # keep draining so the producer never blocks on a failed lane
            cf = self._pool.submit(fn, item)
            with self._inflight_lock:
                self._inflight.add(cf)
            cf.add_done_callback(self._untrack)
            try:
                await asyncio.wrap_future(cf)
            except Exception as exc:
                self.error = self.error or exc

    def _untrack(self, cf: concurrent.futures.Future[None]) -> None:
        with self._inflight_lock:
            self._inflight.discard(cf)

    def running(self) -> list[concurrent.futures.Future[None]]:
        """Jobs submitted and not finished yet (they may still use the caller's resources)."""
        with self._inflight_lock:
            return list(self._inflight)

    async def put(self, item: Any) -> None:
        if self.error is not None:
            raise self.error
        for q in self._queues:
            await q.put(item)

    async def finish(self) -> None:
        for q in self._queues:
            await q.put(None)
        await asyncio.gather(*self._tasks)
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        for t in self._tasks:
            t.cancel()
