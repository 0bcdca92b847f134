"""One background thread that sleeps until it is woken or told to stop.

The index builder (backfill.py) and the global-tables replicator (replication.py) each own one:
``start`` sets the wake flag so that work a restart interrupted is looked for at once, ``stop``
wakes the thread and joins it. Subclasses write ``_loop`` (waiting on ``self._wake``, leaving when
``self._stopping`` is set).
"""

from __future__ import annotations

import abc
import threading


class WakeableWorker(abc.ABC):
    thread_name = "ddb-worker"

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._wake.set()  # look for work a restart interrupted
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    @abc.abstractmethod
    def _loop(self) -> None:
        """The thread's body: wait on ``self._wake``, work, leave once ``self._stopping`` is set."""
