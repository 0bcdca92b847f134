"""The lsm key layout of SQS: ``("sqs", kind, account, region, queue name, ...)``.

::

    ("sqs", "q", acct, region, name)                          -> QueueRecord
    ("sqs", "x", acct, region, name)                          -> Tombstone (60-second rule, last gen)
    ("sqs", "m", acct, region, name, gen, seq)                -> MessageRecord
    ("sqs", "v", acct, region, name, gen, visible_ms, seq)    -> b"0" never received | b"1" received
    ("sqs", "d", acct, region, name, dedup scope, dedup id)   -> DedupRecord (FIFO, 5 minutes)
    ("sqs", "t", acct, region, source name, started_ms, id)   -> MoveTask

The kind comes first so that start-up finds every queue of every account with one short scan of
``("sqs", "q")``, and ListQueues is a scan of ``("sqs", "q", acct, region)`` in name order.

``seq`` is a process-wide increasing number derived from the clock in nanoseconds, so ``m`` keys are
in send order (FIFO order, and retention expiry is a scan from the start). ``v`` is the visibility
index: Receive is a range scan of ``v`` keys whose ``visible_ms`` is not in the future, never a
filter over every message. ``gen`` changes on PurgeQueue and on re-creation, so one write of the
queue record hides every old message at once; the leftovers (lower gens) are swept afterwards.
"""

from __future__ import annotations

from awsemu.storage.lsm.keycodec import encode, encode_part, prefix_end

SERVICE = "sqs"
Range = tuple[bytes, bytes]


def _range(*parts: str | int) -> Range:
    base = encode(*parts)
    end = prefix_end(base)
    assert end is not None  # a key starting with a str tag always has a successor
    return base, end


def queue(account: str, region: str, name: str) -> bytes:
    return encode(SERVICE, "q", account, region, name)


def queues_range(account: str, region: str, after: str | None = None) -> Range:
    """Queue records of an account/region in name order, or those after ``after``."""
    start, end = _range(SERVICE, "q", account, region)
    if after is not None:
        # The immediate byte successor of the key of ``after``: the next queue by name.
        start = queue(account, region, after) + b"\x00"
    return start, end


def all_queues_range() -> Range:
    return _range(SERVICE, "q")


def tombstone(account: str, region: str, name: str) -> bytes:
    return encode(SERVICE, "x", account, region, name)


def all_tombstones_range() -> Range:
    return _range(SERVICE, "x")


def message(account: str, region: str, name: str, gen: int, seq: int) -> bytes:
    return encode(SERVICE, "m", account, region, name, gen, seq)


def messages_range(account: str, region: str, name: str, gen: int) -> Range:
    return _range(SERVICE, "m", account, region, name, gen)


def generation_prefix(kind: str, account: str, region: str, name: str, gen: int) -> bytes:
    """The common start of the ``m`` or ``v`` keys of one queue generation.

    Key parts are self-delimiting, so ``prefix + int_part(seq)`` equals the full encoding; the hot
    paths (send, receive, delete) build keys that way instead of encoding seven parts each time.
    """
    return encode(SERVICE, kind, account, region, name, gen)


def int_part(value: int) -> bytes:
    return encode_part(value)


def visible(account: str, region: str, name: str, gen: int, visible_ms: int, seq: int) -> bytes:
    return encode(SERVICE, "v", account, region, name, gen, visible_ms, seq)


def visible_range(account: str, region: str, name: str, gen: int, until_ms: int | None = None) -> Range:
    """``v`` keys of a queue generation; with ``until_ms``, only those visible at or before it."""
    start, end = _range(SERVICE, "v", account, region, name, gen)
    if until_ms is not None:
        end = encode(SERVICE, "v", account, region, name, gen, until_ms + 1)
    return start, end


def visible_after(account: str, region: str, name: str, gen: int, after_ms: int) -> Range:
    _, end = _range(SERVICE, "v", account, region, name, gen)
    return encode(SERVICE, "v", account, region, name, gen, after_ms + 1), end


def older_generations(kind: str, account: str, region: str, name: str, below_gen: int) -> Range:
    """``m`` or ``v`` keys of every generation of a queue lower than ``below_gen``: garbage."""
    start, _ = _range(SERVICE, kind, account, region, name)
    return start, encode(SERVICE, kind, account, region, name, below_gen)


def dedup(account: str, region: str, name: str, group: str, dedup_id: str) -> bytes:
    return encode(SERVICE, "d", account, region, name, group, dedup_id)


def dedups_range(account: str, region: str, name: str) -> Range:
    return _range(SERVICE, "d", account, region, name)


def move_task(account: str, region: str, source: str, started_ms: int, task_id: str) -> bytes:
    return encode(SERVICE, "t", account, region, source, started_ms, task_id)


def move_tasks_range(account: str, region: str, source: str | None = None) -> Range:
    if source is None:
        return _range(SERVICE, "t", account, region)
    return _range(SERVICE, "t", account, region, source)


def all_move_tasks_range() -> Range:
    return _range(SERVICE, "t")


def everything_range() -> Range:
    return _range(SERVICE)
