"""Messages on lsm: send, receive, delete, change visibility, redrive, expiry, counts.

Every state change is one atomic ``write_batch``:

- send: put the message record and its visibility-index entry;
- receive: per message, a new receipt nonce, receive count and visibility deadline in the record,
  and its index entry moved to the new deadline (or, past maxReceiveCount, the message moved to the
  dead-letter queue in the same batch);
- delete: remove the record and its index entry.

So whatever instant the process dies at, lsm holds either the old or the new state of a message:
no acknowledged send is lost, no deleted message comes back, and an in-flight message simply
becomes visible again when its deadline (stored in the index key) passes.

Mutations of a queue's messages run under the queue's lock (receive reads then writes; a delete or
a visibility change in between would otherwise be overwritten).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from awsemu.services.sqs import keys
from awsemu.services.sqs.errors import MessageNotInflight, invalid_parameter
from awsemu.services.sqs.fifo import FifoGroups
from awsemu.services.sqs.receipts import Receipt
from awsemu.services.sqs.records import MessageRecord, QueueRecord
from awsemu.services.sqs.waiters import WaiterQueue
from awsemu.storage.lsm.keycodec import decode

RECEIVED = b"1"
NEVER_RECEIVED = b"0"
ATTEMPT_TTL_MS = 5 * 60 * 1000
SCAN_CHUNK = 256


@dataclass
class QueueState:
    """A live queue: its record (a cache of lsm) and what exists only while the process runs."""

    record: QueueRecord
    lock: threading.RLock = field(default_factory=threading.RLock)
    waiters: WaiterQueue = field(default_factory=WaiterQueue)
    fifo: FifoGroups | None = None
    # ReceiveRequestAttemptId -> (expires_ms, [(seq, nonce)]) for FIFO receive retries.
    attempts: dict[str, tuple[int, list[tuple[int, str]]]] = field(default_factory=dict)
    # Visibility-index entries below this time are known to be gone. Receives move or delete the
    # entries they scan, leaving tombstones behind that an lsm scan would step over again and again;
    # starting the next scan here skips them. Every new entry is written at a time >= now.
    scan_floor_ms: int = 0
    _prefixes: dict[tuple[str, int], bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.record.fifo and self.fifo is None:
            self.fifo = FifoGroups()

    def _prefix(self, kind: str, gen: int) -> bytes:
        cached = self._prefixes.get((kind, gen))
        if cached is None:
            r = self.record
            cached = self._prefixes[(kind, gen)] = keys.generation_prefix(kind, r.account, r.region, r.name, gen)
        return cached

    def m_key(self, seq: int, gen: int | None = None) -> bytes:
        return self._prefix("m", self.record.gen if gen is None else gen) + keys.int_part(seq)

    def v_key(self, visible_ms: int, seq: int) -> bytes:
        return self._prefix("v", self.record.gen) + keys.int_part(visible_ms) + keys.int_part(seq)


@contextmanager
def _locked_target(redrive: "Redrive | None", source: QueueState) -> Iterator["Redrive | None"]:
    """Hold the dead-letter target's lock too while a receive may write into it.

    Taken with a timeout so that two queues redriving into each other cannot deadlock: if the
    target is busy, this receive does not redrive (the message is delivered; a later receive
    moves it).
    """
    if redrive is None or redrive.target is source:
        yield None
        return
    if not redrive.target.lock.acquire(timeout=0.5):
        yield None
        return
    try:
        yield redrive
    finally:
        redrive.target.lock.release()


@dataclass
class Redrive:
    """Where messages of a queue go after ``max_receive_count`` receives."""

    target: QueueState
    max_receive_count: int


class _NonDecreasingClock:
    """Wall-clock milliseconds that never step back within the process.

    Visibility times are wall-clock (they must survive restarts), and the receive scan skips the
    part of the index below the queue's scan floor; an entry written with a time behind that floor
    (after an NTP step back) would be skipped, so time here only moves forward.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def __call__(self) -> int:
        wall = time.time_ns() // 1_000_000
        with self._lock:
            if wall > self._last:
                self._last = wall
            return self._last


now_ms = _NonDecreasingClock()


def content_dedup_id(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def sequence_number(seq: int) -> str:
    return f"{seq:020d}"


class MessageStore:
    def __init__(self, db: Any) -> None:
        self.db = db
        self._seq_lock = threading.Lock()
        self._last_seq = 0

    def next_seq(self) -> int:
        """Increasing across restarts: derived from the wall clock in nanoseconds."""
        with self._seq_lock:
            self._last_seq = max(self._last_seq + 1, time.time_ns())
            return self._last_seq

    # -- send -------------------------------------------------------------------------------

    def enqueue(self, q: QueueState, messages: list[MessageRecord], extra: list[tuple[bytes, bytes | None]]) -> None:
        """Write new messages (records already numbered) plus ``extra`` writes (dedup entries).

        The caller holds the queue's lock and stamped the messages' times under it.
        """
        writes: list[tuple[bytes, bytes | None]] = list(extra)
        for m in messages:
            writes.append((q.m_key(m.seq), m.to_bytes()))
            writes.append((q.v_key(m.visible_ms, m.seq), NEVER_RECEIVED))
        self.db.write_batch(writes)
        if q.fifo is not None:
            for m in messages:
                q.fifo.add(m.seq, m.group_id or "", m.visible_ms)

    # -- receive ------------------------------------------------------------------------------

    def _candidates(self, q: QueueState, now: int, limit: int) -> Iterator[tuple[bytes | None, int, int]]:
        """(index key or None, seq, visible_ms) of receivable messages, oldest deadline first."""
        if q.fifo is not None:
            for seq in q.fifo.pick(now, limit):
                yield None, seq, 0
            return
        r = q.record
        start, end = keys.visible_range(r.account, r.region, r.name, r.gen, until_ms=now)
        if q.scan_floor_ms:
            start = keys.visible(r.account, r.region, r.name, r.gen, q.scan_floor_ms, 0)
        while True:
            chunk = list(self.db.scan(start, end, limit=SCAN_CHUNK))
            for key, _ in chunk:
                parts = decode(key)
                yield key, int(parts[-1]), int(parts[-2])
            if len(chunk) < SCAN_CHUNK:
                return
            start = chunk[-1][0] + b"\x00"

    def receive(
        self, q: QueueState, max_messages: int, visibility_s: int, redrive: Redrive | None
    ) -> tuple[list[tuple[MessageRecord, str]], list[QueueState]]:
        """Receive up to ``max_messages``; returns (messages with handles, queues that got moved messages)."""
        r = q.record
        retention_ms = r.int_attr("MessageRetentionPeriod") * 1000
        out: list[tuple[MessageRecord, str]] = []
        moved: list[MessageRecord] = []
        writes: list[tuple[bytes, bytes | None]] = []
        dropped: list[int] = []
        targets: list[QueueState] = []
        with q.lock, _locked_target(redrive, q) as redrive:
            # "now" is read under the locks of every queue written here, so no entry is ever
            # written below a scan floor set by an earlier receive (see scan_floor_ms).
            now = now_ms()
            floor = now  # unless we stop early, everything up to now was scanned and consumed
            for v_key, seq, visible_ms in self._candidates(q, now, max_messages):
                floor = visible_ms
                raw = self.db.get(q.m_key(seq))
                if raw is None:  # index entry without its record: a crash leftover
                    if v_key is not None:
                        writes.append((v_key, None))
                    continue
                m = MessageRecord.from_bytes(raw)
                old_v = q.v_key(m.visible_ms, seq)
                if m.sent_ms + retention_ms <= now:
                    writes += [(old_v, None), (q.m_key(seq), None)]
                    dropped.append(seq)
                    continue
                if redrive is not None and m.receive_count >= redrive.max_receive_count:
                    writes += [(old_v, None), (q.m_key(seq), None)]
                    dropped.append(seq)
                    moved.append(self._moved_copy(m, redrive.target, r.arn, keep_count=True, now=now))
                    continue
                m.receive_count += 1
                if not m.first_receive_ms:
                    m.first_receive_ms = now
                m.received_ms = now
                m.receipt_nonce = uuid.uuid4().hex[:16]
                m.visible_ms = now + visibility_s * 1000
                writes += [(old_v, None), (q.v_key(m.visible_ms, seq), RECEIVED), (q.m_key(seq), m.to_bytes())]
                out.append((m, Receipt(r.name, r.gen, seq, m.receipt_nonce).encode()))
                if len(out) >= max_messages:
                    break
            else:
                floor = now
            if moved and redrive is not None:
                target = redrive.target
                for m in moved:
                    writes.append((target.m_key(m.seq), m.to_bytes()))
                    writes.append((target.v_key(m.visible_ms, m.seq), NEVER_RECEIVED))
                targets.append(target)
            if writes:
                self.db.write_batch(writes)
            if q.fifo is None:
                q.scan_floor_ms = max(q.scan_floor_ms, floor)
            if q.fifo is not None:
                for seq in dropped:
                    q.fifo.remove(seq)
                for m, _ in out:
                    q.fifo.set_visible(m.seq, m.visible_ms)
            if moved and redrive is not None and redrive.target.fifo is not None:
                for m in moved:
                    redrive.target.fifo.add(m.seq, m.group_id or "", m.visible_ms)
        return out, targets

    def _moved_copy(self, m: MessageRecord, target: QueueState, source_arn: str, keep_count: bool, now: int) -> MessageRecord:
        copy = MessageRecord(**{**m.__dict__})
        copy.seq = self.next_seq()
        copy.visible_ms = now
        copy.receipt_nonce = ""
        copy.dead_letter_source_arn = source_arn
        if not keep_count:
            copy.receive_count = 0
            copy.first_receive_ms = 0
        return copy

    def replay_attempt(self, q: QueueState, attempt_id: str) -> list[tuple[MessageRecord, str]] | None:
        """FIFO ReceiveRequestAttemptId: the same answer again while its messages stay in flight."""
        now = now_ms()
        with q.lock:
            for key in [k for k, (exp, _) in q.attempts.items() if exp <= now]:
                del q.attempts[key]
            found = q.attempts.get(attempt_id)
            if found is None:
                return None
            out = []
            for seq, nonce in found[1]:
                raw = self.db.get(q.m_key(seq))
                if raw is None:
                    return None
                m = MessageRecord.from_bytes(raw)
                if m.receipt_nonce != nonce or m.visible_ms <= now:
                    return None
                out.append((m, Receipt(q.record.name, q.record.gen, seq, nonce).encode()))
            return out

    def remember_attempt(self, q: QueueState, attempt_id: str, got: list[tuple[MessageRecord, str]]) -> None:
        with q.lock:
            q.attempts[attempt_id] = (now_ms() + ATTEMPT_TTL_MS, [(m.seq, m.receipt_nonce) for m, _ in got])

    def next_visible_ms(self, q: QueueState) -> int | None:
        """When the next message not visible now becomes visible (None: none pending)."""
        now = now_ms()
        if q.fifo is not None:
            return q.fifo.next_visible(now)
        r = q.record
        start, end = keys.visible_after(r.account, r.region, r.name, r.gen, now)
        for key, _ in self.db.scan(start, end, limit=1):
            return int(decode(key)[-2])
        return None

    # -- delete / visibility -----------------------------------------------------------------

    def _current(self, q: QueueState, receipt: Receipt) -> MessageRecord | None:
        if receipt.gen != q.record.gen:
            return None
        raw = self.db.get(q.m_key(receipt.seq))
        return MessageRecord.from_bytes(raw) if raw is not None else None

    def delete(self, q: QueueState, receipts: list[Receipt]) -> int:
        """Delete the messages whose current handle is given (one write); stale handles delete nothing.

        Returns how many messages were deleted.
        """
        with q.lock:
            writes: list[tuple[bytes, bytes | None]] = []
            seqs: list[int] = []
            for receipt in receipts:
                m = self._current(q, receipt)
                if m is None or m.receipt_nonce != receipt.nonce or m.seq in seqs:
                    continue
                writes += [(q.v_key(m.visible_ms, m.seq), None), (q.m_key(m.seq), None)]
                seqs.append(m.seq)
            if writes:
                self.db.write_batch(writes)
            if q.fifo is not None:
                for seq in seqs:
                    q.fifo.remove(seq)
        return len(seqs)

    def change_visibility(self, q: QueueState, receipt: Receipt, visibility_s: int, handle: str) -> None:
        with q.lock:
            now = now_ms()
            m = self._current(q, receipt)
            if m is None or m.receipt_nonce != receipt.nonce:
                raise invalid_parameter(
                    "ReceiptHandle", handle,
                    "Message does not exist or is not available for visibility timeout change.",
                )
            if m.visible_ms <= now:
                raise MessageNotInflight("Message is not in flight.")
            # The 12-hour cap counts from the receive that produced this handle.
            new_visible = now + visibility_s * 1000
            if new_visible - m.received_ms > 43200 * 1000:
                raise invalid_parameter(
                    "VisibilityTimeout", visibility_s,
                    "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                )
            old_v = q.v_key(m.visible_ms, m.seq)
            m.visible_ms = new_visible
            self.db.write_batch(
                [(old_v, None), (q.v_key(new_visible, m.seq), RECEIVED), (q.m_key(m.seq), m.to_bytes())]
            )
            if q.fifo is not None:
                q.fifo.set_visible(m.seq, new_visible)

    # -- whole-queue work ---------------------------------------------------------------------

    def counts(self, q: QueueState) -> tuple[int, int, int]:
        """(visible, in flight, delayed) by one scan of the visibility index."""
        now = now_ms()
        r = q.record
        start, end = keys.visible_range(r.account, r.region, r.name, r.gen)
        visible = in_flight = delayed = 0
        for key, value in self.db.scan(start, end):
            if decode(key)[-2] <= now:
                visible += 1
            elif value == RECEIVED:
                in_flight += 1
            else:
                delayed += 1
        return visible, in_flight, delayed

    def drop_older(self, account: str, region: str, name: str, below_gen: int) -> int:
        """Remove the messages of a queue's generations below ``below_gen`` (purged or deleted), in chunks."""
        removed = 0
        for kind in ("m", "v"):
            start, end = keys.older_generations(kind, account, region, name, below_gen)
            while True:
                batch = [(key, None) for key, _ in self.db.scan(start, end, limit=1000)]
                if not batch:
                    break
                self.db.write_batch(batch)
                removed += len(batch)
                start = batch[-1][0] + b"\x00"
        return removed

    def expire(self, q: QueueState) -> int:
        """Delete messages older than the retention period (seqs are send times in ns)."""
        now = now_ms()
        retention_ms = q.record.int_attr("MessageRetentionPeriod") * 1000
        r = q.record
        start, _ = keys.messages_range(r.account, r.region, r.name, r.gen)
        cutoff = keys.message(r.account, r.region, r.name, r.gen, (now - retention_ms) * 1_000_000)
        expired = 0
        with q.lock:
            writes: list[tuple[bytes, bytes | None]] = []
            seqs = []
            for key, raw in self.db.scan(start, cutoff, limit=1000):
                m = MessageRecord.from_bytes(raw)
                if m.sent_ms + retention_ms > now:
                    continue
                writes += [(key, None), (q.v_key(m.visible_ms, m.seq), None)]
                seqs.append(m.seq)
            if writes:
                self.db.write_batch(writes)
                expired = len(seqs)
            if q.fifo is not None:
                for seq in seqs:
                    q.fifo.remove(seq)
        return expired

    def rebuild_fifo(self, q: QueueState) -> None:
        if q.fifo is None:
            return
        q.fifo.clear()
        r = q.record
        start, end = keys.messages_range(r.account, r.region, r.name, r.gen)
        for _, raw in self.db.scan(start, end):
            m = MessageRecord.from_bytes(raw)
            q.fifo.add(m.seq, m.group_id or "", m.visible_ms)

    def iter_messages(self, q: QueueState, limit: int) -> list[MessageRecord]:
        r = q.record
        start, end = keys.messages_range(r.account, r.region, r.name, r.gen)
        return [MessageRecord.from_bytes(raw) for _, raw in self.db.scan(start, end, limit=limit)]

    def move(self, source: QueueState, m: MessageRecord, target: QueueState) -> bool:
        """Move one message (a message move task); False if it is gone, in flight, or contended."""
        with source.lock, _locked_target(Redrive(target, 0), source) as held:
            if held is None:
                return False
            now = now_ms()
            raw = self.db.get(source.m_key(m.seq))
            if raw is None:
                return False
            current = MessageRecord.from_bytes(raw)
            if current.visible_ms > now:
                return False
            copy = self._moved_copy(current, target, source.record.arn, keep_count=False, now=now)
            copy.dead_letter_source_arn = None
            self.db.write_batch([
                (source.v_key(current.visible_ms, current.seq), None),
                (source.m_key(current.seq), None),
                (target.m_key(copy.seq), copy.to_bytes()),
                (target.v_key(copy.visible_ms, copy.seq), NEVER_RECEIVED),
            ])
            if source.fifo is not None:
                source.fifo.remove(current.seq)
        if target.fifo is not None:
            target.fifo.add(copy.seq, copy.group_id or "", copy.visible_ms)
        return True
