"""Waiting in tests for what the server does in the background (replication, restores, sweeps)."""

from __future__ import annotations

import time
from typing import Any, Callable


def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Call ``check`` until it returns something truthy or ``timeout`` seconds pass; returns its
    last value, so ``assert eventually(...)`` fails with what was seen last."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
