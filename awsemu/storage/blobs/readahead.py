"""Read-ahead: worker threads run a read's jobs a few ahead of the consumer, results in order.

A read is a list of jobs (runs of stripes, see ``reader.py``). Up to ``workers`` pool tasks claim
jobs one after the other, as long as fewer than ``window`` jobs are claimed and not yet taken
by the consumer. So:

- a worker that finishes a job goes straight on to the next one: no thread goes to sleep and
  wakes up again per job, and there is no pool submission per job either;
- memory is bounded: at most ``window`` job results exist besides the one the consumer holds;
- a slow consumer holds no thread for long: a task whose next claim would overrun the window
  waits at most ``LINGER_S`` for the consumer to take a result, then ends (the consumer starts
  a new one when it takes a result). The short wait keeps a fast consumer's read cheap: without
  it the tasks ended and were started again for about every other job.

The consumer helps. A consumer that would otherwise wait for its next result first runs the next
unclaimed job itself with ``inline`` (the store's variant reads only what the page cache holds,
so the event loop never waits for a disk), and hands the job back to the workers when ``inline``
returns None. Waiting is what made warm reads slow: each wait ends with a cross-thread wake-up
of the event loop, which then takes the GIL from two busy workers; measured on two cores, that
hand-off once per 1 MiB job halved the rate the workers reach on their own. A helping consumer
rarely waits, and it is a reader itself, so while it helps one worker fewer runs (two readers on
two cores went faster than three: 63 % of a plain-file read against 53 %). After two misses in a
row (a cold read) it stops trying for the rest of the read, and all ``workers`` run.

When the consumer does wait, it is woken (``call_soon_threadsafe``) once its next result *and
the one after it* are ready, or no other job is running (nothing else could come): about once
per two jobs, not once per job. That costs the first result at most one job's time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: How long a task waits for room in the window before it ends (see the module docstring).
LINGER_S = 0.002

#: Inline misses in a row after which a read stops trying to help (see the module docstring).
_MISSES = 2


class ReadAhead(Generic[T]):
    """``fn(*job)`` for every job, computed ahead on ``pool``, taken in order with ``next()``.

    ``inline(*job)``, if given, is the consumer's own way to run a job on its thread: it must not
    block, and returns None to hand the job to the workers (which then run ``fn``).
    """

    def __init__(
        self,
        pool: concurrent.futures.Executor,
        fn: Callable[..., T],
        jobs: Sequence[tuple[Any, ...]],
        *,
        window: int,
        workers: int,
        on_idle: Callable[[], None] = lambda: None,
        inline: Callable[..., T | None] | None = None,
    ) -> None:
        self._pool = pool
        self._fn = fn
        self._inline = inline
        self._jobs = jobs
        self._window = max(1, window)
        self._max_workers = max(1, workers)
        self._on_idle = on_idle  # called once, when closed and no task runs any more
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # notified when the consumer takes a result
        self._claimed = 0  # jobs claimed so far (job indices below this are claimed)
        self._taken = 0  # results the consumer took so far
        self._handed_back: list[int] = []  # claimed jobs ``inline`` gave up on, for the workers
        self._misses = 0  # inline runs handed back in a row
        self._results: dict[int, tuple[T | None, BaseException | None]] = {}
        self._tasks = 0
        self._running = 0  # jobs claimed whose result is not stored yet
        self._closed = False
        self._idle_called = False
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return len(self._jobs)

    async def next(self) -> T:
        """The next job's result, in job order (raises what the job raised)."""
        index = self._taken
        while True:
            mine: int | None = None  # a job this consumer runs itself
            with self._lock:
                if index in self._results:
                    value, error = self._results.pop(index)
                    self._taken = index + 1
                    self._room.notify()  # room in the window again: for a lingering task
                    self._spawn()  # or for a new one
                    break
                self._spawn()
                if self._inline is not None and self._can_claim_new():
                    mine = self._claim_new()
                else:
                    self._loop = asyncio.get_running_loop()
                    self._waiter = self._loop.create_future()
                    waiter = self._waiter
            if mine is not None:
                self._help(mine)
            else:
                await waiter
        if error is not None:
            raise error
        return value  # type: ignore[return-value]

    def close(self) -> None:
        """Stop claiming jobs; ``on_idle`` runs once the running tasks are done (maybe now)."""
        with self._lock:
            self._closed = True
            self._results.clear()
            self._room.notify_all()
            idle = self._tasks == 0 and not self._idle_called
            self._idle_called = self._idle_called or idle
        if idle:
            self._on_idle()

    def _help(self, index: int) -> None:
        """Run job ``index`` on the consumer's thread, or hand it back to the workers."""
        assert self._inline is not None
        try:
            value = self._inline(*self._jobs[index])
        except Exception:  # the worker's run of the job meets (and reports) it again
            value = None
        with self._lock:
            self._running -= 1
            if value is None:
                self._misses += 1
                if self._misses >= _MISSES:
                    self._inline = None
                self._handed_back.append(index)
                self._spawn()
            else:
                self._misses = 0
                if not self._closed:
                    self._results[index] = (value, None)
        del value

    # -- under self._lock ------------------------------------------------------------------

    def _can_claim_new(self) -> bool:
        return (
            not self._closed
            and self._claimed < len(self._jobs)
            and self._claimed - self._taken < self._window
        )

    def _can_claim(self) -> bool:
        """Whether a worker has a job to run: one handed back, or a new one."""
        return (not self._closed and bool(self._handed_back)) or self._can_claim_new()

    def _claim_new(self) -> int:
        index = self._claimed
        self._claimed += 1
        self._running += 1
        return index

    def _worth_waking(self) -> bool:
        """The waiting consumer's next result is ready, and the one after it or nothing else is."""
        return self._taken in self._results and (self._taken + 1 in self._results or self._running == 0)

    def _spawn(self) -> None:
        """Start tasks up to ``workers``, never more than there are jobs left to claim."""
        left = len(self._handed_back) + len(self._jobs) - self._claimed
        workers = self._max_workers
        if self._inline is not None and workers > 1:
            workers -= 1  # the helping consumer is a reader too: one reader per core
        while self._can_claim() and self._tasks < min(workers, left):
            self._tasks += 1
            try:
                self._pool.submit(self._work)
            except RuntimeError:  # the pool is shut down: the store is closing
                self._tasks -= 1
                raise

    # -- pool side -------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._can_claim() and not self._closed and self._claimed < len(self._jobs):
                    self._room.wait(LINGER_S)  # the window is full: the consumer may take soon
                if not self._can_claim():
                    self._tasks -= 1
                    idle = self._closed and self._tasks == 0 and not self._idle_called
                    self._idle_called = self._idle_called or idle
                    break
                if self._handed_back:
                    index = self._handed_back.pop(0)
                    self._running += 1
                else:
                    index = self._claim_new()
            try:
                result: tuple[T | None, BaseException | None] = (self._fn(*self._jobs[index]), None)
            except BaseException as exc:  # handed to the consumer by next()
                result = (None, exc)
            with self._lock:
                self._running -= 1
                if not self._closed:
                    self._results[index] = result
                del result
                waiter = self._waiter
                if waiter is not None and self._worth_waking():
                    self._waiter = None
                else:
                    waiter = None
            if waiter is not None:  # outside the lock: the woken consumer takes it at once
                self._wake(waiter)
        if idle:
            self._on_idle()

    def _wake(self, waiter: asyncio.Future[None]) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(_set_done, waiter)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass


def _set_done(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
