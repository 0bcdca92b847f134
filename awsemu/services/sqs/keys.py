"""The lsm key layout of SQS. Every key starts with ``("sqs", account, region)``.

::

    ("sqs", acct, region, "q", name)                          -> QueueRecord
    ("sqs", acct, region, "x", name)                          -> deletion time (60-second rule)
    ("sqs", acct, region, "m", name, gen, seq)                -> MessageRecord
    ("sqs", acct, region, "v", name, gen, visible_ms, seq)    -> b"0" never received | b"1" received
    ("sqs", acct, region, "d", name, dedup scope, dedup id)   -> DedupRecord (FIFO, 5 minutes)
    ("sqs", acct, region, "t", source queue name, started ms, task id) -> MoveTask

``seq`` is a process-wide increasing number derived from the clock in nanoseconds, so ``m`` keys are
in send order (FIFO order, and retention expiry is a scan from the start). ``v`` is the visibility
index: Receive is a range scan of ``v`` keys whose ``visible_ms`` is not in the future, never a
filter over every message. ``gen`` changes on PurgeQueue and on re-creation, so one write of the
queue record hides every old message at once; the leftovers are swept afterwards.
"""

from __future__ import annotations

from awsemu.storage.lsm.keycodec import encode, prefix_end

SERVICE = "sqs"


def scope(account: str, region: str) -> tuple[str, str, str]:
    return (SERVICE, account, region)


def queue(account: str, region: str, name: str) -> bytes:
    return encode((SERVICE, account, region, "q", name))


def queues_range(account: str, region: str, after: str | None = None) -> tuple[bytes, bytes]:
    """All queue records of an account/region, or those after ``after`` (exclusive)."""
    base = encode((SERVICE, account, region, "q"))
    # The immediate byte successor of the key of ``after``: the next queue by name.
    start = encode((SERVICE, account, region, "q", after)) + b"\x00" if after is not None else base
    return start, prefix_end(base)


def all_queues_range() -> tuple[bytes, bytes]:
    """Every key of the service: used at start to find the queues of every account and region."""
    base = encode((SERVICE,))
    return base, prefix_end(base)


def tombstone(account: str, region: str, name: str) -> bytes:
    return encode((SERVICE, account, region, "x", name))


def message(account: str, region: str, name: str, gen: int, seq: int) -> bytes:
    return encode((SERVICE, account, region, "m", name, gen, seq))


def messages_range(account: str, region: str, name: str, gen: int | None = None) -> tuple[bytes, bytes]:
    base = encode((SERVICE, account, region, "m", name) if gen is None else (SERVICE, account, region, "m", name, gen))
    return base, prefix_end(base)


def visible(account: str, region: str, name: str, gen: int, visible_ms: int, seq: int) -> bytes:
    return encode((SERVICE, account, region, "v", name, gen, visible_ms, seq))


def visible_range(
    account: str, region: str, name: str, gen: int | None = None, until_ms: int | None = None
) -> tuple[bytes, bytes]:
    """``v`` keys of a queue generation; with ``until_ms``, only those visible at or before it."""
    if gen is None:
        base = encode((SERVICE, account, region, "v", name))
        return base, prefix_end(base)
    base = encode((SERVICE, account, region, "v", name, gen))
    if until_ms is None:
        return base, prefix_end(base)
    return base, encode((SERVICE, account, region, "v", name, gen, until_ms + 1))


def visible_after(account: str, region: str, name: str, gen: int, after_ms: int) -> tuple[bytes, bytes]:
    base = encode((SERVICE, account, region, "v", name, gen))
    return encode((SERVICE, account, region, "v", name, gen, after_ms + 1)), prefix_end(base)


def dedup(account: str, region: str, name: str, group: str, dedup_id: str) -> bytes:
    return encode((SERVICE, account, region, "d", name, group, dedup_id))


def dedups_range(account: str, region: str, name: str) -> tuple[bytes, bytes]:
    base = encode((SERVICE, account, region, "d", name))
    return base, prefix_end(base)


def move_task(account: str, region: str, source: str, started_ms: int, task_id: str) -> bytes:
    return encode((SERVICE, account, region, "t", source, started_ms, task_id))


def move_tasks_range(account: str, region: str, source: str | None = None) -> tuple[bytes, bytes]:
    base = encode((SERVICE, account, region, "t") if source is None else (SERVICE, account, region, "t", source))
    return base, prefix_end(base)
