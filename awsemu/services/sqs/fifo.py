"""FIFO ordering: which messages of a FIFO queue may be received now.

Messages of a group are delivered in send order, and a group is blocked while a message of it is in
flight. Because a group's messages are handed out from its head in order, "some message of the group
is in flight" is the same as "the group's oldest undeleted message is not visible": a group is
available when its head is visible, and then its visible messages from the head onwards are taken.

This index is a cache of the lsm records (rebuilt from them at start): for every group the seqs of
its undeleted messages in order, and each message's visibility time.
"""

from __future__ import annotations

import threading
from collections import deque


class FifoGroups:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: dict[str, deque[int]] = {}
        self._visible: dict[int, int] = {}
        self._group_of: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._visible)

    def add(self, seq: int, group: str, visible_ms: int) -> None:
        with self._lock:
            queue = self._groups.setdefault(group, deque())
            if queue and queue[-1] > seq:
                # Only a rebuild can add out of order; keep the deque sorted.
                items = sorted([*queue, seq])
                queue.clear()
                queue.extend(items)
            else:
                queue.append(seq)
            self._visible[seq] = visible_ms
            self._group_of[seq] = group

    def remove(self, seq: int) -> None:
        with self._lock:
            group = self._group_of.pop(seq, None)
            self._visible.pop(seq, None)
            if group is None:
                return
            queue = self._groups[group]
            if queue and queue[0] == seq:
                queue.popleft()
            else:
                queue.remove(seq)
            if not queue:
                del self._groups[group]

    def set_visible(self, seq: int, visible_ms: int) -> None:
        with self._lock:
            if seq in self._visible:
                self._visible[seq] = visible_ms

    def clear(self) -> None:
        with self._lock:
            self._groups.clear()
            self._visible.clear()
            self._group_of.clear()

    def pick(self, now_ms: int, limit: int) -> list[int]:
        """Seqs receivable now, at most ``limit``: oldest available group first, in group order."""
        with self._lock:
            heads = sorted(
                (queue[0], group)
                for group, queue in self._groups.items()
                if self._visible[queue[0]] <= now_ms
            )
            picked: list[int] = []
            for _, group in heads:
                for seq in self._groups[group]:
                    if self._visible[seq] > now_ms or len(picked) >= limit:
                        break
                    picked.append(seq)
                if len(picked) >= limit:
                    break
            return picked

    def next_visible(self, now_ms: int) -> int | None:
        """When the next blocked or delayed group head becomes visible (None: nothing pending)."""
        with self._lock:
            times = [self._visible[q[0]] for q in self._groups.values() if self._visible[q[0]] > now_ms]
            return min(times) if times else None
