"""Long-poll waiters: ReceiveMessage calls parked on asyncio futures, woken when messages arrive.

A waiting ReceiveMessage holds no thread and polls nothing: it awaits a future with a timeout
(the end of its WaitTimeSeconds, or the moment the next delayed/in-flight message becomes visible,
whichever is first). Senders run in worker threads or on the loop; ``wake`` hands each woken future
to its own loop with ``call_soon_threadsafe``. A send of n messages wakes n waiters (oldest first); a
change that may make messages visible sooner (visibility change, delete in a FIFO group, delayed
send) wakes all of them so they recompute their timeouts.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict


class WaiterQueue:
    """The parked receivers of one queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: OrderedDict[int, asyncio.Future[bool]] = OrderedDict()
        self._next = 0
        # Bumped by every wake, waiters or not: a receiver that read it before looking for messages
        # and sees it changed when about to park knows it may have missed a send, and looks again.
        self.version = 0

    def __len__(self) -> int:
        return len(self._waiting)

    async def wait(self, timeout: float, since: int) -> bool:
        """Park until woken (True) or until ``timeout`` seconds pass (False).

        ``since`` is the ``version`` read before the caller last looked for messages; if a wake came
        after that, return at once instead of sleeping through a message that is already there.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        with self._lock:
            if self.version != since:
                return True
            self._next += 1
            token = self._next
            self._waiting[token] = future
        handle = loop.call_later(max(timeout, 0.0), _settle, future, False)
        try:
            return await future
        except asyncio.CancelledError:
            # Woken, then cancelled (the client went away) before looking: hand the wake on, or
            # another parked receiver could sleep through a message that is there.
            if future.done() and not future.cancelled() and future.result():
                self.wake(1)
            raise
        finally:
            handle.cancel()
            with self._lock:
                self._waiting.pop(token, None)

    def wake(self, count: int | None = None) -> None:
        """Wake ``count`` waiters (oldest first), or all of them."""
        with self._lock:
            self.version += 1
            if not self._waiting:
                return
            tokens = list(self._waiting)
            if count is not None:
                tokens = tokens[:count]
            futures = [self._waiting.pop(t) for t in tokens]
        for future in futures:
            loop = future.get_loop()
            if loop.is_closed():
                continue
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                _settle(future, True)
            else:
                loop.call_soon_threadsafe(_settle, future, True)


def _settle(future: "asyncio.Future[bool]", value: bool) -> None:
    if not future.done():
        future.set_result(value)
