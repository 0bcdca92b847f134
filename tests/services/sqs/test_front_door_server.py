"""Server-level SQS properties: kill -9 and restart through the front door, 500 parked long polls."""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import psutil
import pytest
from botocore.config import Config as BotoConfig


def client(endpoint: str, protocol: str, model_dir: Path, account: str = "000000000000") -> Any:
    session = botocore.session.get_session()
    if protocol == "query":
        session.get_component("data_loader").search_paths.insert(0, str(model_dir))
    return boto3.Session(botocore_session=session).client(
        "sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=account,
        aws_secret_access_key="test", config=BotoConfig(retries={"max_attempts": 1}),
    )


@pytest.mark.parametrize("protocol", ["json", "query"])
def test_kill_9_keeps_acknowledged_state(fresh_server, protocol, query_model_dir):
    c = client(fresh_server.start(), protocol, query_model_dir)
    url = c.create_queue(QueueName="durable", Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
    furl = c.create_queue(QueueName="durable.fifo", Attributes={"ContentBasedDeduplication": "true"})["QueueUrl"]
    for start in range(0, 50, 10):
        c.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)])
    for i in range(6):
        c.send_message(QueueUrl=furl, MessageBody=f"f{i}", MessageGroupId=str(i % 2))
    deleted = set()
    got = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    for m in got:
        c.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        deleted.add(m["Body"])
    in_flight = {m["Body"] for m in c.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]}
    fifo_first = c.receive_message(QueueUrl=furl)["Messages"][0]
    assert fifo_first["Body"] == "f0"
    fresh_server.kill()

    c = client(fresh_server.start(), protocol, query_model_dir)
    url = c.get_queue_url(QueueName="durable")["QueueUrl"]
    furl = c.get_queue_url(QueueName="durable.fifo")["QueueUrl"]
    attrs = c.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 40
    seen: set[str] = set()
    deadline = time.monotonic() + 15
    while len(seen) < 40 and time.monotonic() < deadline:
        for m in c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            seen.add(m["Body"])
            c.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert seen == {f"m{i}" for i in range(50)} - deleted
    assert in_flight <= seen  # in-flight messages reappeared after their visibility timeout
    # FIFO: group 0 is still blocked by f0 in flight; group 1 flows in order
    assert [m["Body"] for m in c.receive_message(QueueUrl=furl, MaxNumberOfMessages=10)["Messages"]] == ["f1", "f3", "f5"]
    # the receipt handle given before the crash still deletes f0
    c.delete_message(QueueUrl=furl, ReceiptHandle=fifo_first["ReceiptHandle"])
    assert [m["Body"] for m in c.receive_message(QueueUrl=furl, MaxNumberOfMessages=10)["Messages"]] == ["f2", "f4"]
    fresh_server.stop()


async def _poll(port: int, account: str, queue_url: str) -> dict[str, Any]:
    body = json.dumps({"QueueUrl": queue_url, "WaitTimeSeconds": 20}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write((
            f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-amz-json-1.0\r\n"
            "X-Amz-Target: AmazonSQS.ReceiveMessage\r\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential={account}/20260101/us-east-1/sqs/aws4_request, "
            f"SignedHeaders=host, Signature={'0' * 64}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body)
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        return dict(json.loads(await reader.readexactly(length)))
    finally:
        writer.close()


def test_500_concurrent_long_polls_wait_without_500_threads(awsemu_server, query_model_dir):
    account = str(random.randint(10**11, 10**12 - 1))
    c = client(awsemu_server.endpoint, "json", query_model_dir, account)
    url = c.create_queue(QueueName="parked")["QueueUrl"]
    port = int(awsemu_server.endpoint.rsplit(":", 1)[1])
    server = psutil.Process(awsemu_server.proc.pid)

    async def scenario() -> None:
        polls = [asyncio.ensure_future(_poll(port, account, url)) for _ in range(500)]
        await asyncio.sleep(2.0)
        assert not any(p.done() for p in polls)
        threads = server.num_threads()
        assert threads < 100, f"{threads} server threads for 500 parked long polls"
        for start in range(0, 500, 10):
            await asyncio.to_thread(c.send_message_batch, QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)])
        results = await asyncio.wait_for(asyncio.gather(*polls), timeout=20)
        assert sorted(r["Messages"][0]["Body"] for r in results) == sorted(f"m{i}" for i in range(500))

    asyncio.run(scenario())
