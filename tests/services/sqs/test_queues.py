"""Queue operations at the provider: create/get/list/attributes/delete/purge/tags/permissions."""

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


def test_create_returns_url_on_the_endpoint_the_client_used(sqs):
    url = sqs("CreateQueue", QueueName="orders", _endpoint="http://10.0.0.5:4566")["QueueUrl"]
    assert url == "http://10.0.0.5:4566/000000000000/orders"
    # any host in the URL names the same queue; GetQueueUrl answers on the caller's endpoint
    assert sqs("GetQueueUrl", QueueName="orders")["QueueUrl"] == "http://localhost:4566/000000000000/orders"
    sqs("SendMessage", QueueUrl="https://sqs.us-east-1.amazonaws.com/000000000000/orders", MessageBody="x")


def test_create_is_idempotent_and_refuses_different_attributes(sqs):
    url = sqs.create("q", VisibilityTimeout="60")
    assert sqs.create("q", VisibilityTimeout="60") == url
    assert sqs.create("q") == url  # no attributes given: nothing differs
    fails(lambda: sqs.create("q", VisibilityTimeout="61"), "QueueNameExists",
          "A queue already exists with the same name and a different value for attribute VisibilityTimeout")
    fails(lambda: sqs.create("q", DelaySeconds="5"), "QueueNameExists")
    assert sqs.create("q", DelaySeconds="0") == url  # same as the default


@pytest.mark.parametrize("name", ["", "a" * 81, "bad name", "dots.are.bad", "x.fifo2"])
def test_invalid_queue_names(sqs, name):
    fails(lambda: sqs.create(name), "InvalidParameterValue",
          "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")


def test_fifo_naming_rules(sqs):
    msg = ("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
           "must end with .fifo suffix and be 1 to 80 in length.")
    fails(lambda: sqs.create("nofifosuffix", FifoQueue="true"), "InvalidParameterValue", msg)
    fails(lambda: sqs.create("a" * 76 + ".fifo"), "InvalidParameterValue", msg)
    url = sqs.create("a" * 75 + ".fifo")  # the suffix alone makes it FIFO
    attrs = sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["FifoQueue"])["Attributes"]
    assert attrs == {"FifoQueue": "true"}
    fails(lambda: sqs.create("std", FifoQueue="false", ContentBasedDeduplication="true"),
          "InvalidAttributeName", "Unknown Attribute ContentBasedDeduplication.")


@pytest.mark.parametrize(
    "attr,value",
    [("VisibilityTimeout", "43201"), ("VisibilityTimeout", "-1"), ("DelaySeconds", "901"),
     ("MaximumMessageSize", "1023"), ("MaximumMessageSize", "1048577"), ("MessageRetentionPeriod", "59"),
     ("MessageRetentionPeriod", "1209601"), ("ReceiveMessageWaitTimeSeconds", "21"),
     ("VisibilityTimeout", "abc")],
)
def test_attribute_ranges(sqs, attr, value):
    fails(lambda: sqs.create("q", **{attr: value}), "InvalidAttributeValue",
          f"Invalid value for the parameter {attr}.")
    url = sqs.create("q")
    fails(lambda: sqs("SetQueueAttributes", QueueUrl=url, Attributes={attr: value}),
          "InvalidAttributeValue", f"Invalid value for the parameter {attr}.")


def test_unknown_attribute_names(sqs):
    fails(lambda: sqs.create("q", Bogus="1"), "InvalidAttributeName", "Unknown Attribute Bogus.")
    url = sqs.create("q")
    fails(lambda: sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["Bogus"]),
          "InvalidAttributeName", "Unknown Attribute Bogus.")
    fails(lambda: sqs("SetQueueAttributes", QueueUrl=url, Attributes={"FifoQueue": "true"}),
          "InvalidAttributeName", "Unknown Attribute FifoQueue.")


def test_get_all_attributes_of_standard_and_fifo_queues(sqs):
    before = int(time.time())
    url = sqs.create("q")
    attrs = sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
    created = int(attrs.pop("CreatedTimestamp"))
    assert before <= created <= time.time()
    assert int(attrs.pop("LastModifiedTimestamp")) == created
    assert attrs == {
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
        "VisibilityTimeout": "30",
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "DelaySeconds": "0",
        "ReceiveMessageWaitTimeSeconds": "0",
        "SqsManagedSseEnabled": "true",
    }
    furl = sqs.create("f.fifo", FifoQueue="true", DeduplicationScope="messageGroup",
                      FifoThroughputLimit="perMessageGroupId")
    fattrs = sqs("GetQueueAttributes", QueueUrl=furl, AttributeNames=["All"])["Attributes"]
    assert {k: fattrs[k] for k in ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")} == {
        "FifoQueue": "true", "ContentBasedDeduplication": "false",
        "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId",
    }
    assert sqs("GetQueueAttributes", QueueUrl=url) == {}


def test_high_throughput_rule(sqs):
    fails(lambda: sqs.create("f.fifo", FifoThroughputLimit="perMessageGroupId"), "InvalidAttributeValue")


def test_set_attributes_policy_and_sse(sqs):
    url = sqs.create("q")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                                 "Action": "sqs:SendMessage", "Resource": "*"}]})
    sqs("SetQueueAttributes", QueueUrl=url, Attributes={"Policy": policy, "VisibilityTimeout": "5",
                                                        "KmsMasterKeyId": "alias/aws/sqs"})
    attrs = sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["Policy"] == policy
    assert attrs["VisibilityTimeout"] == "5"
    assert attrs["KmsMasterKeyId"] == "alias/aws/sqs"
    assert attrs["KmsDataKeyReusePeriodSeconds"] == "300"
    assert attrs["SqsManagedSseEnabled"] == "false"
    sqs("SetQueueAttributes", QueueUrl=url, Attributes={"Policy": ""})
    assert "Policy" not in sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
    fails(lambda: sqs("SetQueueAttributes", QueueUrl=url, Attributes={"Policy": "{not json"}), "InvalidAttributeValue")


def test_queue_does_not_exist(sqs):
    missing = "http://localhost:4566/000000000000/nope"
    fails(lambda: sqs("GetQueueUrl", QueueName="nope"), "QueueDoesNotExist", "The specified queue does not exist.")
    for op in ("GetQueueAttributes", "DeleteQueue", "PurgeQueue", "ListQueueTags"):
        fails(lambda: sqs(op, QueueUrl=missing), "QueueDoesNotExist", "The specified queue does not exist.")
    fails(lambda: sqs("SendMessage", QueueUrl=missing, MessageBody="x"), "QueueDoesNotExist")
    fails(lambda: sqs("ReceiveMessage", QueueUrl=missing), "QueueDoesNotExist")


def test_list_queues_prefix_and_paging(sqs):
    names = [f"app-{i:02d}" for i in range(7)] + ["other", "zzz"]
    for n in names:
        sqs.create(n)
    everything = sqs("ListQueues")["QueueUrls"]
    assert [u.rsplit("/", 1)[1] for u in everything] == sorted(names)
    assert [u.rsplit("/", 1)[1] for u in sqs("ListQueues", QueueNamePrefix="app-")["QueueUrls"]] == names[:7]
    seen, token = [], None
    while True:
        page = sqs("ListQueues", QueueNamePrefix="app-", MaxResults=3, **({"NextToken": token} if token else {}))
        seen += [u.rsplit("/", 1)[1] for u in page["QueueUrls"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names[:7]
    assert sqs("ListQueues", QueueNamePrefix="nomatch") == {}
    fails(lambda: sqs("ListQueues", MaxResults=1001), "InvalidParameterValue")
    assert "NextToken" not in sqs("ListQueues", MaxResults=9)


def test_queues_are_scoped_by_account_and_region(sqs):
    sqs("CreateQueue", QueueName="shared", _account="111111111111")
    sqs("CreateQueue", QueueName="shared", _region="eu-west-1", Attributes={"DelaySeconds": "5"})
    assert sqs("ListQueues") == {}
    fails(lambda: sqs("GetQueueUrl", QueueName="shared"), "QueueDoesNotExist")
    eu = sqs("ListQueues", _region="eu-west-1")["QueueUrls"]
    assert eu == ["http://localhost:4566/000000000000/shared"]
    other = sqs("GetQueueUrl", QueueName="shared", QueueOwnerAWSAccountId="111111111111")["QueueUrl"]
    assert other == "http://localhost:4566/111111111111/shared"
    # a caller of another account reaches the queue by its URL
    sqs("SendMessage", QueueUrl=other, MessageBody="cross-account")
    got = sqs("ReceiveMessage", QueueUrl=other, _account="111111111111")
    assert got["Messages"][0]["Body"] == "cross-account"


def test_delete_queue_and_the_60_second_rule(sqs, monkeypatch):
    url = sqs.create("gone")
    sqs("SendMessage", QueueUrl=url, MessageBody="old")
    sqs("DeleteQueue", QueueUrl=url)
    fails(lambda: sqs("GetQueueUrl", QueueName="gone"), "QueueDoesNotExist")
    fails(lambda: sqs.create("gone"), "QueueDeletedRecently",
          "You must wait 60 seconds after deleting a queue before you can create another with the same name.")
    monkeypatch.setattr(provider_module, "DELETED_RECENTLY_S", 0)
    url = sqs.create("gone")
    assert sqs("ReceiveMessage", QueueUrl=url) == {}  # old messages never come back


def test_purge_and_purge_in_progress(sqs, monkeypatch):
    url = sqs.create("p")
    for i in range(5):
        sqs("SendMessage", QueueUrl=url, MessageBody=str(i))
    sqs("ReceiveMessage", QueueUrl=url)
    sqs("PurgeQueue", QueueUrl=url)
    assert sqs("ReceiveMessage", QueueUrl=url, MaxNumberOfMessages=10) == {}
    counts = sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == counts["ApproximateNumberOfMessagesNotVisible"] == "0"
    fails(lambda: sqs("PurgeQueue", QueueUrl=url), "PurgeQueueInProgress",
          "Only one PurgeQueue operation on p is allowed every 60 seconds.")
    sqs("SendMessage", QueueUrl=url, MessageBody="after")
    assert sqs("ReceiveMessage", QueueUrl=url)["Messages"][0]["Body"] == "after"
    sqs.provider.sweep()  # the purged generation is removed from lsm
    monkeypatch.setattr(provider_module, "PURGE_INTERVAL_S", 0)
    sqs("PurgeQueue", QueueUrl=url)


def test_tags(sqs):
    url = sqs("CreateQueue", QueueName="t", tags={"team": "a"})["QueueUrl"]
    assert sqs("ListQueueTags", QueueUrl=url) == {"Tags": {"team": "a"}}
    sqs("TagQueue", QueueUrl=url, Tags={"env": "dev", "team": "b"})
    assert sqs("ListQueueTags", QueueUrl=url) == {"Tags": {"team": "b", "env": "dev"}}
    sqs("UntagQueue", QueueUrl=url, TagKeys=["team", "absent"])
    assert sqs("ListQueueTags", QueueUrl=url) == {"Tags": {"env": "dev"}}
    sqs("UntagQueue", QueueUrl=url, TagKeys=["env"])
    assert sqs("ListQueueTags", QueueUrl=url) == {}


def test_add_and_remove_permission(sqs):
    url = sqs.create("perm")
    sqs("AddPermission", QueueUrl=url, Label="l1", AWSAccountIds=["111111111111"], Actions=["SendMessage"])
    policy = json.loads(sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert policy["Statement"] == [{
        "Sid": "l1", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "SQS:SendMessage", "Resource": "arn:aws:sqs:us-east-1:000000000000:perm",
    }]
    fails(lambda: sqs("AddPermission", QueueUrl=url, Label="l1", AWSAccountIds=["1"], Actions=["*"]),
          "InvalidParameterValue", "Value l1 for parameter Label is invalid. Reason: Already exists.")
    sqs("RemovePermission", QueueUrl=url, Label="l1")
    assert sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["Policy"]) == {}
    fails(lambda: sqs("RemovePermission", QueueUrl=url, Label="l1"), "InvalidParameterValue")


def test_queues_survive_restart(sqs):
    url = sqs("CreateQueue", QueueName="durable", Attributes={"VisibilityTimeout": "7"}, tags={"k": "v"})["QueueUrl"]
    sqs.restart()
    assert sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"] == {"VisibilityTimeout": "7"}
    assert sqs("ListQueueTags", QueueUrl=url) == {"Tags": {"k": "v"}}


def test_reset_wipes_every_queue_and_message(sqs):
    url = sqs.create("a")
    sqs("SendMessage", QueueUrl=url, MessageBody="x")
    sqs("CreateQueue", QueueName="b", _account="111111111111")
    sqs.provider.reset()
    assert sqs("ListQueues") == {}
    assert sqs("ListQueues", _account="111111111111") == {}
    url = sqs.create("a")  # no 60-second rule after a reset, and no old message
    assert sqs("ReceiveMessage", QueueUrl=url) == {}
    sqs.restart()
    assert sqs("ListQueues")["QueueUrls"] == [url]
