"""SQS queue tags and the legacy AddPermission/RemovePermission policy editing, as a provider mixin.

These operations only read and rewrite the queue record; they need two helpers of
:class:`~awsemu.services.sqs.provider.SqsProvider` (resolve a queue URL, persist its record), declared
here as annotations so the mixin type-checks on its own.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.sqs.errors import InvalidParameterValue, MissingParameter, invalid_parameter
from awsemu.services.sqs.message_store import QueueState

MAX_TAGS = 50


class TagAndPermissionOperations:
    # implemented by SqsProvider
    _queue: Callable[[CallContext, str | None], QueueState]
    _save: Callable[[QueueState], None]

    def tag_queue(self, ctx: CallContext, QueueUrl: str, Tags: dict[str, str]) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        if not Tags:
            raise MissingParameter("The request must contain the parameter Tags.")
        with q.lock:
            tags = {**q.record.tags, **Tags}
            if len(tags) > MAX_TAGS:
                raise InvalidParameterValue(f"Too many tags added for queue {q.record.name}.")
            q.record.tags = tags
            self._save(q)
        return {}

    def untag_queue(self, ctx: CallContext, QueueUrl: str, TagKeys: list[str]) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        if not TagKeys:
            raise MissingParameter("The request must contain the parameter TagKeys.")
        with q.lock:
            q.record.tags = {k: v for k, v in q.record.tags.items() if k not in set(TagKeys)}
            self._save(q)
        return {}

    def list_queue_tags(self, ctx: CallContext, QueueUrl: str) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        return {"Tags": dict(q.record.tags)} if q.record.tags else {}

    def add_permission(
        self, ctx: CallContext, QueueUrl: str, Label: str, AWSAccountIds: list[str], Actions: list[str]
    ) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        if not AWSAccountIds:
            raise MissingParameter("The request must contain the parameter AWSAccountIds.")
        if not Actions:
            raise MissingParameter("The request must contain the parameter Actions.")
        with q.lock:
            policy = json.loads(q.record.attributes.get("Policy") or "null") or {
                "Version": "2012-10-17", "Id": f"{q.record.arn}/SQSDefaultPolicy", "Statement": [],
            }  # fmt: skip
            if any(s.get("Sid") == Label for s in policy["Statement"]):
                raise invalid_parameter("Label", Label, "Already exists.")
            principals = [f"arn:aws:iam::{a}:root" for a in AWSAccountIds]
            actions = [f"SQS:{a}" for a in Actions]
            policy["Statement"].append({
                "Sid": Label, "Effect": "Allow",
                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                "Action": actions[0] if len(actions) == 1 else actions,
                "Resource": q.record.arn,
            })  # fmt: skip
            q.record.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
            self._save(q)
        return {}

    def remove_permission(self, ctx: CallContext, QueueUrl: str, Label: str) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        with q.lock:
            policy = json.loads(q.record.attributes.get("Policy") or "null")
            statements = policy.get("Statement", []) if isinstance(policy, dict) else []
            kept = [s for s in statements if s.get("Sid") != Label]
            if len(kept) == len(statements):
                raise invalid_parameter("Label", Label, "can't find label on existing policy.")
            if kept:
                policy["Statement"] = kept
                q.record.attributes["Policy"] = json.dumps(policy, separators=(",", ":"))
            else:
                q.record.attributes.pop("Policy", None)
            self._save(q)
        return {}
