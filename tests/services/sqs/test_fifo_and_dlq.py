"""FIFO queues (group ordering, dedup, sequence numbers) and dead-letter queues (redrive, move tasks)."""

from __future__ import annotations

import json
import time

import pytest

from awsemu.services.base import ServiceError
from awsemu.services.sqs import provider as provider_module


def fails(call, code: str, message: str | None = None) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call()
    assert info.value.code == code, (info.value.code, info.value.message)
    if message is not None:
        assert info.value.message == message
    return info.value


def test_fifo_send_rules(sqs):
    url = sqs.create("f.fifo")
    fails(lambda: sqs("SendMessage", QueueUrl=url, MessageBody="x", MessageDeduplicationId="d"), "MissingParameter",
          "The request must contain the parameter MessageGroupId.")
    fails(lambda: sqs("SendMessage", QueueUrl=url, MessageBody="x", MessageGroupId="g"), "InvalidParameterValue",
          "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
    fails(lambda: sqs("SendMessage", QueueUrl=url, MessageBody="x", MessageGroupId="g", MessageDeduplicationId="d",
                      DelaySeconds=5), "InvalidParameterValue",
          "Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.")


def test_group_ordering_and_blocking(sqs):
    url = sqs.create("f.fifo", ContentBasedDeduplication="true")
    seqs = []
    for i in range(3):
        for group in ("a", "b"):
            seqs.append(sqs("SendMessage", QueueUrl=url, MessageBody=f"{group}{i}", MessageGroupId=group)["SequenceNumber"])
    assert seqs == sorted(seqs) and len(set(seqs)) == 6 and all(len(s) == 20 for s in seqs)
    first = sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=2, AttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in first] == ["a0", "a1"]  # as many of one group as possible, in order
    assert first[0]["Attributes"]["MessageGroupId"] == "a"
    assert first[0]["Attributes"]["SequenceNumber"] == seqs[0]
    assert first[0]["Attributes"]["MessageDeduplicationId"]
    # group a is blocked while a0/a1 are in flight: only b comes out
    second = sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in second] == ["b0", "b1", "b2"]
    assert sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10) == {}
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])
    assert sqs("ReceiveMessage", QueueUrl=url) == {}  # a1 still in flight
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"])
    assert [m["Body"] for m in sqs("ReceiveMessage", QueueUrl=url)["Messages"]] == ["a2"]


def test_in_flight_message_returns_first_in_its_group(sqs):
    url = sqs.create("f.fifo", ContentBasedDeduplication="true")
    for body in ("1", "2", "3"):
        sqs("SendMessage", QueueUrl=url, MessageBody=body, MessageGroupId="g")
    [m1] = sqs("ReceiveMessage", QueueUrl=url)["Messages"]
    sqs("ChangeMessageVisibility", QueueUrl=url, ReceiptHandle=m1["ReceiptHandle"], VisibilityTimeout=0)
    got = sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert [(m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in got] == [("1", "2"), ("2", "1"), ("3", "1")]


def test_deduplication_explicit_and_content_based(sqs):
    url = sqs.create("d.fifo", ContentBasedDeduplication="true")
    a = sqs("SendMessage", QueueUrl=url, MessageBody="same", MessageGroupId="g")
    b = sqs("SendMessage", QueueUrl=url, MessageBody="same", MessageGroupId="other")
    assert b["MessageId"] == a["MessageId"] and b["SequenceNumber"] == a["SequenceNumber"]
    c = sqs("SendMessage", QueueUrl=url, MessageBody="same", MessageGroupId="g", MessageDeduplicationId="explicit")
    assert c["MessageId"] != a["MessageId"]
    batch = sqs("SendMessageBatch", QueueUrl=url, Entries=[
        {"Id": "1", "MessageBody": "x", "MessageGroupId": "g", "MessageDeduplicationId": "dup"},
        {"Id": "2", "MessageBody": "y", "MessageGroupId": "g", "MessageDeduplicationId": "dup"},
    ])
    assert batch["Successful"][0]["MessageId"] == batch["Successful"][1]["MessageId"]
    got = sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["same", "same", "x"]
    # deduplication holds after the message was deleted, within 5 minutes
    for m in got:
        sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    again = sqs("SendMessage", QueueUrl=url, MessageBody="same", MessageGroupId="g")
    assert again["MessageId"] == a["MessageId"]
    assert sqs("ReceiveMessage", QueueUrl=url) == {}


def test_dedup_scope_message_group(sqs):
    url = sqs.create("h.fifo", DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    a = sqs("SendMessage", QueueUrl=url, MessageBody="1", MessageGroupId="g1", MessageDeduplicationId="d")
    b = sqs("SendMessage", QueueUrl=url, MessageBody="2", MessageGroupId="g2", MessageDeduplicationId="d")
    c = sqs("SendMessage", QueueUrl=url, MessageBody="3", MessageGroupId="g1", MessageDeduplicationId="d")
    assert a["MessageId"] != b["MessageId"] and c["MessageId"] == a["MessageId"]


def test_receive_request_attempt_id(sqs):
    url = sqs.create("r.fifo", ContentBasedDeduplication="true")
    for body in ("1", "2"):
        sqs("SendMessage", QueueUrl=url, MessageBody=body, MessageGroupId="g")
    first = sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="try-1")
    retry = sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="try-1")
    assert [m["ReceiptHandle"] for m in retry["Messages"]] == [m["ReceiptHandle"] for m in first["Messages"]]
    assert sqs("ReceiveMessage", QueueUrl=url, ReceiveRequestAttemptId="try-2") == {}


def test_fifo_state_survives_restart(sqs):
    url = sqs.create("p.fifo", ContentBasedDeduplication="true")
    for body in ("1", "2"):
        sqs("SendMessage", QueueUrl=url, MessageBody=body, MessageGroupId="g")
    [m1] = sqs("ReceiveMessage", QueueUrl=url)["Messages"]
    sqs.restart()
    assert sqs("ReceiveMessage", QueueUrl=url) == {}  # group still blocked by the in-flight message
    assert sqs("SendMessage", QueueUrl=url, MessageBody="1", MessageGroupId="g")["MessageId"] == m1["MessageId"]
    sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=m1["ReceiptHandle"])
    assert sqs("ReceiveMessage", QueueUrl=url)["Messages"][0]["Body"] == "2"


def redrive(dlq_arn: str, count: int) -> str:
    return json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": count})


def test_redrive_policy_moves_after_max_receives(sqs):
    dlq = sqs.create("dlq")
    dlq_arn = sqs("GetQueueAttributes", QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    src = sqs.create("src", RedrivePolicy=redrive(dlq_arn, 2))
    assert json.loads(sqs("GetQueueAttributes", QueueUrl=src, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}
    sent = sqs("SendMessage", QueueUrl=src, MessageBody="poison")
    for _ in range(2):
        sqs("ReceiveMessage", QueueUrl=src, VisibilityTimeout=0)
    assert sqs("ReceiveMessage", QueueUrl=src) == {}  # third receive: moved instead
    [m] = sqs("ReceiveMessage", QueueUrl=dlq, AttributeNames=["All"])["Messages"]
    assert m["MessageId"] == sent["MessageId"] and m["Body"] == "poison"
    assert m["Attributes"]["DeadLetterQueueSourceArn"] == "arn:aws:sqs:us-east-1:000000000000:src"
    assert sqs("ListDeadLetterSourceQueues", QueueUrl=dlq) == {"queueUrls": [src]}
    assert sqs("ListDeadLetterSourceQueues", QueueUrl=src) == {"queueUrls": []}


def test_redrive_policy_validation(sqs):
    fails(lambda: sqs.create("s", RedrivePolicy="not json"), "InvalidParameterValue",
          "Value not json for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map.")
    missing = redrive("arn:aws:sqs:us-east-1:000000000000:nope", 3)
    fails(lambda: sqs.create("s", RedrivePolicy=missing), "InvalidParameterValue",
          f"Value {missing} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.")
    dlq = sqs.create("dlq")
    arn = "arn:aws:sqs:us-east-1:000000000000:dlq"
    fails(lambda: sqs.create("s", RedrivePolicy=redrive(arn, 0)), "InvalidParameterValue")
    fifo_dlq = sqs.create("dlq.fifo")
    fails(lambda: sqs.create("s", RedrivePolicy=redrive("arn:aws:sqs:us-east-1:000000000000:dlq.fifo", 3)),
          "InvalidParameterValue")
    sqs("SetQueueAttributes", QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})})
    fails(lambda: sqs.create("s", RedrivePolicy=redrive(arn, 3)), "InvalidParameterValue")
    sqs("SetQueueAttributes", QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue", "sourceQueueArns": ["arn:aws:sqs:us-east-1:000000000000:s"]})})
    sqs.create("s", RedrivePolicy=redrive(arn, 3))
    fails(lambda: sqs("SetQueueAttributes", QueueUrl=dlq, Attributes={"RedriveAllowPolicy": json.dumps(
        {"redrivePermission": "byQueue"})}), "InvalidAttributeValue")
    assert fifo_dlq


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_message_move_task_back_to_source(sqs):
    dlq = sqs.create("dlq")
    dlq_arn = "arn:aws:sqs:us-east-1:000000000000:dlq"
    src = sqs.create("src", RedrivePolicy=redrive(dlq_arn, 1))
    for i in range(5):
        sqs("SendMessage", QueueUrl=src, MessageBody=str(i))
    for _ in range(2):
        while sqs("ReceiveMessage", QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0):
            pass
    assert sqs("GetQueueAttributes", QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "5"}
    fails(lambda: sqs("StartMessageMoveTask", SourceArn="arn:aws:sqs:us-east-1:000000000000:src"),
          "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue.")
    fails(lambda: sqs("StartMessageMoveTask", SourceArn="arn:aws:sqs:us-east-1:000000000000:nope"),
          "ResourceNotFoundException")
    handle = sqs("StartMessageMoveTask", SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    wait_for(lambda: sqs("ListMessageMoveTasks", SourceArn=dlq_arn)["Results"][0]["Status"] == "COMPLETED")
    [task] = sqs("ListMessageMoveTasks", SourceArn=dlq_arn, MaxResults=10)["Results"]
    assert task["ApproximateNumberOfMessagesMoved"] == 5 and task["ApproximateNumberOfMessagesToMove"] == 5
    assert task["SourceArn"] == dlq_arn and "TaskHandle" not in task
    got = sqs("ReceiveMessage", QueueUrl=src, MaxNumberOfMessages=10, AttributeNames=["ApproximateReceiveCount"])["Messages"]
    assert sorted(m["Body"] for m in got) == ["0", "1", "2", "3", "4"]
    assert {m["Attributes"]["ApproximateReceiveCount"] for m in got} == {"1"}
    fails(lambda: sqs("CancelMessageMoveTask", TaskHandle=handle), "UnsupportedOperation")


def test_message_move_task_to_destination_and_cancel(sqs):
    dlq = sqs.create("dlq")
    dlq_arn = "arn:aws:sqs:us-east-1:000000000000:dlq"
    sqs.create("src", RedrivePolicy=redrive(dlq_arn, 1))
    dest = sqs.create("dest")
    for i in range(30):
        sqs("SendMessage", QueueUrl=dlq, MessageBody=str(i))
    handle = sqs("StartMessageMoveTask", SourceArn=dlq_arn,
                 DestinationArn="arn:aws:sqs:us-east-1:000000000000:dest", MaxNumberOfMessagesPerSecond=10)["TaskHandle"]
    running = sqs("ListMessageMoveTasks", SourceArn=dlq_arn)["Results"][0]
    assert running["Status"] == "RUNNING" and running["TaskHandle"] == handle
    assert running["MaxNumberOfMessagesPerSecond"] == 10
    fails(lambda: sqs("StartMessageMoveTask", SourceArn=dlq_arn), "InvalidParameterValue")
    wait_for(lambda: sqs("ListMessageMoveTasks", SourceArn=dlq_arn)["Results"][0]["ApproximateNumberOfMessagesMoved"] >= 2)
    moved = sqs("CancelMessageMoveTask", TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert 1 <= moved < 30
    wait_for(lambda: sqs("ListMessageMoveTasks", SourceArn=dlq_arn)["Results"][0]["Status"] == "CANCELLED")
    in_dest = int(sqs("GetQueueAttributes", QueueUrl=dest, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
    in_dlq = int(sqs("GetQueueAttributes", QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])
    assert in_dest + in_dlq == 30 and in_dest >= moved
    fails(lambda: sqs("CancelMessageMoveTask", TaskHandle="bm9wZQ=="), "ResourceNotFoundException")


def test_redrive_fifo_keeps_group_order(sqs, monkeypatch):
    dlq = sqs.create("dlq.fifo")
    src = sqs.create("src.fifo", ContentBasedDeduplication="true",
                     RedrivePolicy=redrive("arn:aws:sqs:us-east-1:000000000000:dlq.fifo", 1))
    for body in ("1", "2"):
        sqs("SendMessage", QueueUrl=src, MessageBody=body, MessageGroupId="g")
    sqs("ReceiveMessage", QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert sqs("ReceiveMessage", QueueUrl=src, MaxNumberOfMessages=10) == {}
    got = sqs("ReceiveMessage", QueueUrl=dlq, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"])["Messages"]
    assert [(m["Body"], m["Attributes"]["MessageGroupId"]) for m in got] == [("1", "g"), ("2", "g")]
    assert provider_module  # module imported for monkeypatching elsewhere


def test_list_dead_letter_source_queues_pages(sqs):
    dlq = sqs.create("dlq")
    arn = "arn:aws:sqs:us-east-1:000000000000:dlq"
    sources = [sqs.create(f"src-{i}", RedrivePolicy=redrive(arn, 3)) for i in range(5)]
    sqs.create("unrelated")
    seen, token = [], None
    while True:
        page = sqs("ListDeadLetterSourceQueues", QueueUrl=dlq, MaxResults=2, **({"NextToken": token} if token else {}))
        seen += page["queueUrls"]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == sources
    # the policy is quoted back as given
    given = '{"maxReceiveCount": "2", "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:none"}'
    fails(lambda: sqs.create("s", RedrivePolicy=given), "InvalidParameterValue",
          f"Value {given} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.")
