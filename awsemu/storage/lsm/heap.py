"""Give freed memory back to the operating system after the engine's big transient allocations.

A flush or a compaction allocates and frees many megabytes (a memtable's objects, merge chunks,
the index and filter builders). glibc's malloc keeps freed memory in its arenas, where it stays
resident: the process's RSS then creeps above what the engine holds, by whatever the allocator
happened to keep. ``malloc_trim(0)`` returns the free pages of every arena to the kernel. It takes
a few milliseconds, so the background threads call it once per flush or compaction, never a
reader. On a C library without it (musl, macOS) this is a no-op.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _load_trim() -> Callable[[int], int] | None:
    # the symbols the interpreter is linked with (its C library): no search, no subprocess
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


_malloc_trim = _load_trim()


def release_free_memory() -> None:
    """Return the allocator's free pages to the kernel (best effort)."""
    if _malloc_trim is not None:
        _malloc_trim(0)
