"""Cutting a streamed body into stripes, copying only what has to be copied.

A chunk of exactly ``bytes`` (immutable) that starts on a stripe boundary gives its whole stripes
as views, uncopied: a client streaming 1 MiB chunks into 1 MiB stripes costs no copy at all.
Everything else (pieces smaller than a stripe, ``bytearray``/``memoryview`` chunks the producer
may overwrite as soon as it gets control back) is copied once into a stripe buffer. Stripe
buffers come from a ``RecyclingBuffers`` pool, so a stripe buffer the lanes are done with is
filled again instead of a fresh one being zeroed and faulted in.
"""

from __future__ import annotations

from collections.abc import Iterator

from .buffers import RecyclingBuffers


class StripeCutter:
    """Feed chunks, get full stripes; ``tail()`` is what is left at the end of the body."""

    def __init__(self, stripe_bytes: int, keep_buffers: int) -> None:
        self.stripe_bytes = stripe_bytes
        self.total = 0  # body bytes fed so far
        self._buffers = RecyclingBuffers(stripe_bytes, keep_buffers)
        self._buf: bytearray | None = None  # the stripe being filled
        self._filled = 0

    def feed(self, chunk: bytes | bytearray | memoryview) -> Iterator[memoryview]:
        """The stripes ``chunk`` completes, in order (views the caller may keep)."""
        size = self.stripe_bytes
        self.total += len(chunk)
        view = memoryview(chunk)
        if not self._filled and type(chunk) is bytes:
            while len(view) >= size:
                yield view[:size]
                view = view[size:]
        while view:
            if self._buf is None:
                self._buf = self._buffers.take(size)
            n = min(len(view), size - self._filled)
            self._buf[self._filled : self._filled + n] = view[:n]
            self._filled += n
            view = view[n:]
            if self._filled == size:
                full, self._buf, self._filled = memoryview(self._buf), None, 0
                yield full
                del full  # only the consumer's references keep the buffer busy now

    def tail(self) -> bytes:
        """The last, partial stripe (possibly empty); call once, after the last ``feed``."""
        buf, self._buf = self._buf, None
        return bytes(memoryview(buf)[: self._filled]) if buf is not None else b""
