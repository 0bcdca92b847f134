"""A bounded queue between a streaming runtime and the HTTP client reading its response.

A streamed response may be up to 20 MiB (runtime_api.MAX_STREAMED_BODY), and the client may read
slower than the function writes: chunks must not pile up in the server's memory. The Runtime API
hands each chunk to :meth:`ChunkQueue.put` as it arrives; once more than ``high_water`` bytes wait
for the client, ``put`` returns a future that resolves when the client has taken enough of them.
The Runtime API awaits it before it reads the runtime's next chunk from the socket, so TCP flow
control slows the function's writes down to the client's pace (as Lambda's streaming does). At most
``high_water`` plus one chunk (the runtime's HTTP chunk, or a 64 KiB piece of it) is held per stream.
"""

from __future__ import annotations

import asyncio
from collections import deque

HIGH_WATER = 1024 * 1024


class ChunkQueue:
    """Chunks (``None`` ends the stream) with a byte bound that pushes back on the producer."""

    def __init__(self, high_water: int = HIGH_WATER) -> None:
        self.high_water = high_water
        self.held = 0  # bytes queued and not yet taken
        self._items: deque[bytes | None] = deque()
        self._ready = asyncio.Event()
        self._room: asyncio.Future[None] | None = None

    def put(self, chunk: bytes | None) -> "asyncio.Future[None] | None":
        """Queue ``chunk``; a future to await before the next put when the queue is over its bound."""
        self._items.append(chunk)
        self._ready.set()
        if chunk is None:
            return None
        self.held += len(chunk)
        if self.held <= self.high_water:
            return None
        if self._room is None or self._room.done():
            self._room = asyncio.get_running_loop().create_future()
        return self._room

    async def get(self) -> bytes | None:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        item = self._items.popleft()
        if item is not None:
            self.held -= len(item)
            if self.held <= self.high_water // 2:
                self._release()
        return item

    def empty(self) -> bool:
        return not self._items

    def get_nowait(self) -> bytes | None:
        item = self._items.popleft()
        if item is not None:
            self.held -= len(item)
        return item

    def _release(self) -> None:
        if self._room is not None and not self._room.done():
            self._room.set_result(None)

    def close(self) -> None:
        """The reader is gone: a producer waiting for room goes on (its invocation is cancelled)."""
        self._release()
