"""Read-ahead: worker threads run a read's jobs a few ahead of the consumer, results in order.

A read is a list of jobs (runs of stripes, see ``store.py``). Up to ``workers`` pool tasks claim
jobs one after the other, as long as fewer than ``window`` jobs are claimed and not yet taken
by the consumer; a task whose next claim would overrun the window simply ends, and the consumer
starts a new one when it takes a result. So:

- a worker that finishes a job goes straight on to the next one: no thread goes to sleep and
  wakes up again per job, and there is no pool submission per job either;
- memory is bounded: at most ``window`` job results exist besides the one the consumer holds;
- a slow consumer holds no thread: the tasks end when the window is full;
- the event loop is woken (``call_soon_threadsafe``) only when it is actually waiting for the
  result it needs next.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ReadAhead(Generic[T]):
    """``fn(*job)`` for every job, computed ahead on ``pool``, taken in order with ``next()``."""

    def __init__(
        self,
        pool: concurrent.futures.Executor,
        fn: Callable[..., T],
        jobs: Sequence[tuple[Any, ...]],
        *,
        window: int,
        workers: int,
        on_idle: Callable[[], None] = lambda: None,
    ) -> None:
        self._pool = pool
        self._fn = fn
        self._jobs = jobs
        self._window = max(1, window)
        self._max_workers = max(1, workers)
        self._on_idle = on_idle  # called once, when closed and no task runs any more
        self._lock = threading.Lock()
        self._claimed = 0  # jobs handed to tasks so far (job indices below this are claimed)
        self._taken = 0  # results the consumer took so far
        self._results: dict[int, tuple[T | None, BaseException | None]] = {}
        self._tasks = 0
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
            with self._lock:
                if index in self._results:
                    value, error = self._results.pop(index)
                    self._taken = index + 1
                    self._spawn()  # room in the window again
                    break
                self._spawn()
                self._loop = asyncio.get_running_loop()
                self._waiter = self._loop.create_future()
                waiter = self._waiter
            await waiter
        if error is not None:
            raise error
        return value  # type: ignore[return-value]

    def close(self) -> None:
        """Stop claiming jobs; ``on_idle`` runs once the running tasks are done (maybe now)."""
        with self._lock:
            self._closed = True
            self._results.clear()
            idle = self._tasks == 0 and not self._idle_called
            self._idle_called = self._idle_called or idle
        if idle:
            self._on_idle()

    # -- under self._lock ------------------------------------------------------------------

    def _can_claim(self) -> bool:
        return (
            not self._closed
            and self._claimed < len(self._jobs)
            and self._claimed - self._taken < self._window
        )

    def _spawn(self) -> None:
        """Start tasks up to ``workers``, never more than there are jobs left to claim."""
        while self._can_claim() and self._tasks < min(self._max_workers, len(self._jobs) - self._claimed):
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
                if not self._can_claim():
                    self._tasks -= 1
                    idle = self._closed and self._tasks == 0 and not self._idle_called
                    self._idle_called = self._idle_called or idle
                    break
                index = self._claimed
                self._claimed += 1
            try:
                result: tuple[T | None, BaseException | None] = (self._fn(*self._jobs[index]), None)
            except BaseException as exc:  # handed to the consumer by next()
                result = (None, exc)
            with self._lock:
                if not self._closed:
                    self._results[index] = result
                del result
                waiter = self._waiter
                if waiter is not None and index == self._taken:
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
