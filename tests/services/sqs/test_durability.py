"""State survives a restart and a kill -9: acknowledged sends stay, deletes stay deleted, in-flight
messages come back after their visibility timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time


WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from awsemu.config import Config
    from awsemu.services.base import CallContext
    from awsemu.services.sqs.provider import SqsProvider
    from awsemu.storage import Storage
    from awsemu.storage.lsm import DB

    data = Path(sys.argv[1])
    db = DB.open(data / "meta")
    p = SqsProvider(Storage(data, db), Config(data_dir=data))
    p.start()
    ctx = CallContext(service="sqs", operation="x")
    url = p.create_queue(ctx, QueueName="crash", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    fifo = p.create_queue(ctx, QueueName="crash.fifo", Attributes={"ContentBasedDeduplication": "true"})["QueueUrl"]
    i = 0
    while True:
        body = f"m{i}"
        p.send_message(ctx, QueueUrl=url, MessageBody=body)
        print("sent", body, flush=True)
        p.send_message(ctx, QueueUrl=fifo, MessageBody=body, MessageGroupId=str(i % 3))
        print("fsent", body, flush=True)
        if i % 3 == 0:
            got = asyncio.run(p.receive_message(ctx, QueueUrl=url, MaxNumberOfMessages=2))
            for m in got.get("Messages", []):
                p.delete_message(ctx, QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                print("deleted", m["Body"], flush=True)
        if i % 5 == 0:
            got = asyncio.run(p.receive_message(ctx, QueueUrl=url, VisibilityTimeout=1))
            for m in got.get("Messages", []):
                print("inflight", m["Body"], flush=True)
        i += 1
    """
)


def drain(sqs, url: str) -> list[str]:
    bodies = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        if not got:
            break
        for m in got["Messages"]:
            bodies.append(m["Body"])
            sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def test_restart_keeps_messages_in_flight_state_and_counts(sqs):
    url = sqs.create("r", VisibilityTimeout="1")
    for i in range(4):
        sqs("SendMessage", QueueUrl=url, MessageBody=str(i))
    sqs("SendMessage", QueueUrl=url, MessageBody="delayed", DelaySeconds=1)
    got = sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
    sqs.restart()
    attrs = sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["ApproximateNumberOfMessages"], attrs["ApproximateNumberOfMessagesNotVisible"],
            attrs["ApproximateNumberOfMessagesDelayed"]) == ("2", "1", "1")
    # the old receipt handle of the in-flight message is still current after the restart
    sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=got[1]["ReceiptHandle"], VisibilityTimeout=0)
    time.sleep(1.0)
    assert sorted(drain(sqs, url)) == sorted(["1", "2", "3", "delayed"])


def test_kill_9_loses_no_acknowledged_send_and_resurrects_no_delete(tmp_path, open_sqs):
    data = tmp_path / "crash"
    data.mkdir()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(data)], stdout=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 20
        seen = b""
        while seen.count(b"\n") < 300 and time.monotonic() < deadline:
            seen += proc.stdout.read1(65536)
    finally:
        proc.kill()  # SIGKILL in the middle of the work
        rest, _ = proc.communicate()
    lines = (seen + rest).decode().splitlines()
    if lines and not (seen + rest).endswith(b"\n"):
        lines = lines[:-1]  # a torn last line is not an acknowledgement
    events = [line.split(" ", 1) for line in lines if " " in line]
    sent = {b for e, b in events if e == "sent"}
    fsent = [b for e, b in events if e == "fsent"]
    deleted = {b for e, b in events if e == "deleted"}
    assert len(sent) > 50, "the worker did not get going"

    sqs = open_sqs(data)
    url = sqs("GetQueueUrl", QueueName="crash")["QueueUrl"]
    fifo = sqs("GetQueueUrl", QueueName="crash.fifo")["QueueUrl"]
    time.sleep(1.1)  # in-flight messages (visibility 1 s) become visible again
    remaining = drain(sqs, url)
    assert len(remaining) == len(set(remaining))
    assert not set(remaining) & deleted, "a deleted message came back"
    assert sent - deleted <= set(remaining), "an acknowledged send was lost"
    # FIFO: every acknowledged send is there, and each group comes out in send order
    fifo_bodies = drain(sqs, fifo)
    assert set(fsent) <= set(fifo_bodies)
    for group in range(3):
        order = [int(b[1:]) for b in fifo_bodies if int(b[1:]) % 3 == group]
        assert order == sorted(order)
