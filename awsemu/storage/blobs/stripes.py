"""Cutting a streamed body into stripes, copying only what has to be copied.

A chunk of exactly ``bytes`` (immutable) that starts on a stripe boundary gives its whole stripes
as views, uncopied: a client streaming 1 MiB chunks into 1 MiB stripes costs no copy at all.
Smaller immutable pieces are only *held* (as views) until the stripe they belong to is complete;
then they are copied once into a stripe buffer. So a body shorter than a stripe (most objects;
every inline one) is never copied and never costs a stripe buffer: allocating one is a
stripe-sized zero fill and page faults, which for a 4 KiB PUT cost more than the rest of the
blob write. ``bytearray``/``memoryview`` chunks, which the producer may overwrite as soon as it
gets control back, are copied into the stripe buffer at once. Stripe buffers come from a
``RecyclingBuffers`` pool, so a stripe buffer the lanes are done with is filled again instead of
a fresh one being zeroed and faulted in.
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
        self._held: list[bytes | memoryview] = []  # immutable pieces of the stripe, not copied yet
        self._held_bytes = 0
        self._buf: bytearray | None = None  # the stripe being filled, once copying has started
        self._filled = 0

    def feed(self, chunk: bytes | bytearray | memoryview) -> Iterator[memoryview]:
        """The stripes ``chunk`` completes, in order (views the caller may keep)."""
        size = self.stripe_bytes
        self.total += len(chunk)
        immutable = type(chunk) is bytes
        view = memoryview(chunk)
        if immutable and not self._held_bytes and self._buf is None:
            while len(view) >= size:
                yield view[:size]
                view = view[size:]
            if len(view) == len(chunk) and view:  # hold the chunk itself: tail() may return it
                self._held.append(chunk)
                self._held_bytes = len(chunk)
                return
        while view:
            if self._buf is None:
                if immutable and self._held_bytes + len(view) < size:
                    self._held.append(view)
                    self._held_bytes += len(view)
                    return
                self._buf = self._buffers.take(size)
                for piece in self._held:
                    self._buf[self._filled : self._filled + len(piece)] = piece
                    self._filled += len(piece)
                self._held.clear()
                self._held_bytes = 0
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
        held, self._held = self._held, []
        buf, self._buf = self._buf, None
        if buf is not None:
            return bytes(memoryview(buf)[: self._filled])
        if len(held) == 1 and type(held[0]) is bytes:
            return held[0]
        return b"".join(held)
