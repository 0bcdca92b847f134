"""A small keep-alive HTTP/1.1 load generator (asyncio + uvloop), the same for every server compared.

Python clients are slower than wrk, so absolute numbers are floors; both sides of a comparison are
measured with this same client in the same run, which is what the ratios rely on.
"""

from __future__ import annotations

import asyncio
import time


async def _connection(host: str, port: int, request: bytes, stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        while time.perf_counter() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:].strip())
            if length:
                await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected response: {head[:80]!r}")
            done += 1
    finally:
        counts.append(done)
        writer.close()


def requests_per_second(host: str, port: int, request: bytes, seconds: float = 4.0, connections: int = 16) -> float:
    import uvloop

    async def run() -> float:
        counts: list[int] = []
        start = time.perf_counter()
        stop_at = start + seconds
        await asyncio.gather(*(_connection(host, port, request, stop_at, counts) for _ in range(connections)))
        return sum(counts) / (time.perf_counter() - start)

    return uvloop.run(run())
