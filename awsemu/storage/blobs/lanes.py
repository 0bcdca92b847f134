"""Lanes: bounded processing of a stream of stripes on a thread pool, off the event loop.

The write path hands every stripe to several lanes: one per digest (MD5 and each requested
checksum), which must see the body in order, one for the parity shards (zfec encode, CRC32C,
writes) and one for the data shards (CRC32C, writes). hashlib, zfec and awscrt (CRC32C) release
the GIL on large buffers, so MD5 of stripe s runs on one core while stripe s is encoded and
written on another.

How the lanes run, and why:
- A lane handles its items one at a time, in order. It has a queue and at most one pool job: the
  job drains the queue and returns when it is empty (the next ``put`` starts a new one). A job
  never sleeps waiting for work, so the lanes of many concurrent writes cannot fill the pool
  with idle threads and starve each other, and a busy lane costs no pool submission per item.
- A lane is not split over several jobs even where its stripes are independent (shards): on
  two cores, two encoders next to MD5 cost ~10 % more CPU (measured) for no gain in throughput.
- Back-pressure: ``put`` waits while any lane has more than ``depth`` stripes queued, which bounds
  memory to a few stripes whatever the body size. The pool thread finishing a stripe wakes the
  producer only when it is actually waiting (no round trip through the event loop per stripe
  otherwise).
- Wake-ups and pool submissions happen outside the lanes' lock: done under it, the woken thread
  blocked on the lock at once, which doubled the context switches per stripe (measured with
  ``getrusage``) and made writes slower than the simpler design this one replaced.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from typing import Any


class Lanes:
    """In-order processing of items by each of ``fns`` on a thread pool, bounded backlog per lane."""

    def __init__(
        self, pool: concurrent.futures.Executor, fns: Sequence[Callable[[Any], None]], depth: int
    ) -> None:
        self._pool = pool
        self._fns = list(fns)
        self._depth = max(1, depth)
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()
        self._queues: list[collections.deque[Any]] = [collections.deque() for _ in self._fns]
        self._draining = [False] * len(self._fns)  # the lane has a job on the pool
        self._pending = [0] * len(self._fns)  # items put and not finished, per lane
        self._jobs = 0  # pool jobs submitted and not finished
        self._idle = threading.Condition(self._lock)  # notified when _jobs drops to 0
        self._waiter: asyncio.Future[None] | None = None
        self._ready: Callable[[], bool] = lambda: True  # what the waiting producer waits for
        self._cancelled = False
        self.error: BaseException | None = None

    # -- producer side (event loop) ------------------------------------------------------------

    async def put(self, item: Any) -> None:
        """Hand ``item`` to every lane; returns once no lane has more than ``depth`` items
        queued besides the one it runs (so a lane does not run dry while the producer, woken
        by the lane, waits for its turn on a busy machine)."""
        if self.error is not None:
            raise self.error
        with self._lock:
            start = []
            for i in range(len(self._fns)):
                self._pending[i] += 1
                self._queues[i].append(item)
                if not self._draining[i]:
                    self._draining[i] = True
                    self._jobs += 1
                    start.append(i)
        for i in start:  # outside the lock: the job it starts takes it at once
            self._submit(i)
        await self._wait(lambda: max(self._pending) <= self._depth + 1)

    async def finish(self) -> None:
        """Wait until every lane has processed every item; raises the first lane error."""
        await self._wait(lambda: max(self._pending, default=0) == 0)
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        """Skip the items not started yet (a failed or abandoned write)."""
        with self._lock:
            self._cancelled = True

    def wait_idle(self) -> None:
        """Block until no pool job of these lanes is running (call from a worker thread)."""
        with self._idle:
            while self._jobs:
                self._idle.wait()

    async def _wait(self, ready: Callable[[], bool]) -> None:
        while True:
            with self._lock:
                if ready() or self.error is not None:
                    return
                waiter = self._waiter = self._loop.create_future()
                self._ready = ready
            await waiter  # a pool thread may already have cleared self._waiter

    # -- pool side -----------------------------------------------------------------------------

    def _submit(self, lane: int) -> None:
        try:
            self._pool.submit(self._drain, lane)
        except BaseException:  # pool shut down: nothing will run this job
            with self._lock:
                self._draining[lane] = False
                self._job_done()
            raise

    # Items are dropped before they count as done: a stripe buffer is reused once no lane
    # refers to it (see buffers.py).

    def _drain(self, lane: int) -> None:
        queue = self._queues[lane]
        while True:
            with self._lock:
                if not queue:
                    self._draining[lane] = False
                    self._job_done()
                    return
                item = queue.popleft()
            self._process(lane, item)
            del item
            self._finished(lane)

    def _process(self, lane: int, item: Any) -> None:
        if self._cancelled or self.error is not None:
            return
        try:
            self._fns[lane](item)
        except BaseException as exc:  # reported to the producer by put/finish
            with self._lock:
                self.error = self.error or exc

    def _finished(self, lane: int) -> None:
        with self._lock:
            self._pending[lane] -= 1
            waiter = self._waiter
            if waiter is None or (self.error is None and not self._ready()):
                return
            self._waiter = None
        # outside the lock: the woken producer takes it at once
        try:
            self._loop.call_soon_threadsafe(_set_done, waiter)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    def _job_done(self) -> None:
        self._jobs -= 1  # under self._lock
        if not self._jobs:
            self._idle.notify_all()


def _set_done(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
