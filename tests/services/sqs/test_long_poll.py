"""Long polling: waiters park on asyncio futures (no thread each), wake on send, on delay end, on timeout."""

from __future__ import annotations

import asyncio
import threading
import time


def test_500_concurrent_long_polls_use_no_threads(sqs):
    url = sqs.create("lp")
    provider = sqs.provider
    ctx = sqs.ctx("ReceiveMessage")

    async def scenario() -> None:
        threads_before = threading.active_count()
        polls = [asyncio.ensure_future(provider.receive_message(ctx, QueueUrl=url, WaitTimeSeconds=20))
                 for _ in range(500)]
        queue = next(iter(provider._queues.values()))
        while len(queue.waiters) < 500:
            await asyncio.sleep(0.01)
        # every poll is parked, and none holds a thread
        assert threading.active_count() <= threads_before + 1
        assert not any(p.done() for p in polls)
        for start in range(0, 500, 10):
            provider.send_message_batch(ctx, QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)])
        results = await asyncio.wait_for(asyncio.gather(*polls), timeout=15)
        bodies = sorted(r["Messages"][0]["Body"] for r in results)
        assert bodies == sorted(f"m{i}" for i in range(500))
        assert len(queue.waiters) == 0

    asyncio.run(scenario())


def test_long_poll_wakes_on_send_from_another_thread(sqs):
    url = sqs.create("lp")
    provider = sqs.provider
    ctx = sqs.ctx("ReceiveMessage")

    async def scenario() -> float:
        poll = asyncio.ensure_future(provider.receive_message(ctx, QueueUrl=url, WaitTimeSeconds=10))
        await asyncio.sleep(0.1)
        assert not poll.done()
        sent_at = time.monotonic()
        await asyncio.to_thread(provider.send_message, ctx, QueueUrl=url, MessageBody="wake")
        result = await poll
        assert result["Messages"][0]["Body"] == "wake"
        return time.monotonic() - sent_at

    # functional check only (no timing assertion): the poll returned with the message well before its 10 s
    assert asyncio.run(scenario()) < 9


def test_long_poll_times_out_empty_and_honours_queue_default(sqs):
    url = sqs.create("lp", ReceiveMessageWaitTimeSeconds="1")
    started = time.monotonic()
    assert sqs("ReceiveMessage", QueueUrl=url) == {}  # queue default: waits ~1 s
    assert time.monotonic() - started >= 0.9
    started = time.monotonic()
    assert sqs("ReceiveMessage", QueueUrl=url, WaitTimeSeconds=0) == {}
    assert time.monotonic() - started < 0.9


def test_long_poll_wakes_when_visibility_timeout_ends(sqs):
    url = sqs.create("lp")
    sqs("SendMessage", QueueUrl=url, MessageBody="m")
    first = sqs("ReceiveMessage", QueueUrl=url, VisibilityTimeout=1)["Messages"][0]
    started = time.monotonic()
    again = sqs("ReceiveMessage", QueueUrl=url, WaitTimeSeconds=10)["Messages"][0]
    assert again["MessageId"] == first["MessageId"]
    assert time.monotonic() - started < 5


def test_long_poll_on_fifo_wakes_when_group_unblocks(sqs):
    url = sqs.create("lp.fifo", ContentBasedDeduplication="true")
    for body in ("1", "2"):
        sqs("SendMessage", QueueUrl=url, MessageBody=body, MessageGroupId="g")
    provider = sqs.provider
    ctx = sqs.ctx("ReceiveMessage")

    async def scenario() -> None:
        first = await provider.receive_message(ctx, QueueUrl=url)
        poll = asyncio.ensure_future(provider.receive_message(ctx, QueueUrl=url, WaitTimeSeconds=10))
        await asyncio.sleep(0.1)
        assert not poll.done()  # group blocked by message 1
        await asyncio.to_thread(provider.delete_message, ctx, QueueUrl=url,
                                ReceiptHandle=first["Messages"][0]["ReceiptHandle"])
        result = await asyncio.wait_for(poll, timeout=5)
        assert result["Messages"][0]["Body"] == "2"

    asyncio.run(scenario())


def test_deleting_the_queue_releases_waiters(sqs):
    url = sqs.create("lp")
    provider = sqs.provider
    ctx = sqs.ctx("ReceiveMessage")

    async def scenario() -> None:
        poll = asyncio.ensure_future(provider.receive_message(ctx, QueueUrl=url, WaitTimeSeconds=20))
        await asyncio.sleep(0.05)
        await asyncio.to_thread(provider.delete_queue, ctx, QueueUrl=url)
        assert await asyncio.wait_for(poll, timeout=5) == {}

    asyncio.run(scenario())


def test_a_woken_waiter_cancelled_before_it_looks_passes_the_wake_on():
    from awsemu.services.sqs.waiters import WaiterQueue

    async def scenario() -> None:
        waiters = WaiterQueue()
        first = asyncio.ensure_future(waiters.wait(10, waiters.version))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(waiters.wait(10, waiters.version))
        await asyncio.sleep(0)
        assert len(waiters) == 2
        waiters.wake(1)  # wakes the oldest...
        first.cancel()  # ...which goes away before it could look for the message
        assert await asyncio.wait_for(second, timeout=2) is True
        assert first.cancelled()

    asyncio.run(scenario())


def test_a_wake_between_looking_and_parking_is_not_lost():
    from awsemu.services.sqs.waiters import WaiterQueue

    async def scenario() -> None:
        waiters = WaiterQueue()
        seen = waiters.version
        waiters.wake(1)  # a send lands after the receiver looked, before it parks
        assert await asyncio.wait_for(waiters.wait(10, seen), timeout=1) is True

    asyncio.run(scenario())
