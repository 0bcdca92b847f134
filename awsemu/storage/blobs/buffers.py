"""Read buffers that are reused once nobody holds them any more.

A read hands out views of the buffer a worker read a run of stripes into ("safe to keep": the
store never writes into a buffer while anything outside it still refers to it). Allocating a
fresh buffer per run is what made reads slow: ``bytearray(n)`` zero-fills with the GIL held, and
the freshly mapped pages fault in one by one during the kernel's copy (malloc hands big freed
blocks back to the kernel). Both costs vanish when a buffer the consumer has dropped is
simply read into again.

Whether a buffer is still held is its reference count: every view handed out (and every slice
of one) keeps a reference to the ``bytearray`` it exports, so a count back at what it was when
the buffer sat idle right after its creation means no view of it is alive anywhere. The
baseline is measured, not assumed, so it holds whatever the interpreter's own bookkeeping is.
"""

from __future__ import annotations

import sys
import threading


class RecyclingBuffers:
    """Up to ``keep`` buffers of ``size`` bytes, handed out again once unreferenced.

    An instance may serve many threads and many reads at once (the store keeps one per run size
    for all its reads): a pooled buffer is handed out only while nothing else refers to it, so
    two users never get the same one. Other sizes (the edges of a range) get a fresh, unpooled
    buffer.
    """

    def __init__(self, size: int, keep: int) -> None:
        self.size = size
        self._keep = keep
        self._pool: list[bytearray] = []
        self._idle_refs = 0  # reference count of a pooled buffer nobody else holds, as seen in take()
        self._lock = threading.Lock()
        self.reused = 0  # for tests and benchmarks

    def take(self, size: int) -> bytearray:
        """A buffer of ``size`` bytes whose contents are garbage (the caller overwrites them)."""
        if size != self.size:
            return bytearray(size)
        with self._lock:
            # the count is taken the same way in both places (list item straight into
            # getrefcount, no local name), so "idle" compares like with like
            for i in range(len(self._pool)):
                if sys.getrefcount(self._pool[i]) == self._idle_refs:
                    self.reused += 1
                    return self._pool[i]
            if len(self._pool) >= self._keep:
                return bytearray(size)
            self._pool.append(bytearray(size))
            self._idle_refs = sys.getrefcount(self._pool[-1])
            return self._pool[-1]
