"""Resource-based policies of tables and streams, as a provider mixin: PutResourcePolicy,
GetResourcePolicy, DeleteResourcePolicy; and :func:`policy_for_arn`, what the auth layer's
``resource_policy`` hook reads.

A policy is stored under its table's uid, ``("ddb", "p", uid, stream label or "")`` -> JSON with the
document as given and its revision id, so it goes with its table (deleted with it, and never seen
by a new table of the same name). Revision ids are millisecond timestamps as DynamoDB's are,
strictly increasing per resource. ``ExpectedRevisionId`` makes a write conditional: it must name
the current revision, or be ``NO_POLICY`` for "only if there is none"; a mismatch is
PolicyNotFoundException, as the API reference says. Putting the document already in place keeps
its revision.

The document is checked with the IAM policy grammar for resource policies (a Principal in every
statement, known elements, unique Sids) and the 20 KB limit DynamoDB documents (whitespace counts).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.errors import (
    PolicyNotFoundException,
    ResourceNotFoundException,
    ValidationException,
)
from awsemu.services.dynamodb.records import TableRecord
from awsemu.services.dynamodb.store import TableStore
from awsemu.services.iam.policy.parse import RESOURCE, MalformedPolicy, parse_policy

MAX_POLICY_BYTES = 20 * 1024
_ARN = re.compile(
    r"arn:aws[\w-]*:dynamodb:([\w-]+):(\d{12}):table/([a-zA-Z0-9_.\-]+)(?:/(stream|index)/([^/]+))?\Z"
)
_NOT_FOUND_PREFIX = "Resource-based policy not found for the provided ResourceArn: "


def policy_key(uid: str, label: str = "") -> bytes:
    return keys.encode((keys.PREFIX, "p", uid, label))


def policies_range(uid: str) -> tuple[bytes, bytes]:
    start = keys.encode((keys.PREFIX, "p", uid))
    return start, keys.prefix_end(start)


def _table_record(db: Any, account: str, region: str, name: str) -> TableRecord | None:
    raw = db.get(keys.table_key(account, region, name))
    return None if raw is None else TableRecord.from_json(raw)


def policy_for_arn(db: Any, arn: str) -> tuple[str | None, str] | None:
    """(policy text or None, owner account) of a table, one of its indexes (the table's policy
    governs them) or its stream; None if there is no such resource."""
    match = _ARN.match(arn or "")
    if match is None:
        return None
    region, account, name, kind, label = match.groups()
    table = _table_record(db, account, region, name)
    if table is None:
        return None
    if kind == "stream":
        if table.stream_label != label:
            return None
        raw = db.get(policy_key(table.uid, label))
    else:
        raw = db.get(policy_key(table.uid))
    return (json.loads(raw)["policy"] if raw is not None else None), account


class ResourcePolicyOperations:
    # implemented by DynamoDBProvider
    store: TableStore

    def _policy_target(self, arn: Any) -> tuple[TableRecord, str, str]:
        """(table, stream label or "", the ARN as given) of a PutResourcePolicy-able resource."""
        match = _ARN.match(arn) if isinstance(arn, str) else None
        if match is None or match.group(4) == "index":
            raise ValidationException(f"Invalid ResourceArn provided as input {arn}")
        region, account, name, kind, label = match.groups()
        table = self.store.table(account, region, name)
        if kind == "stream":
            if table is None or table.stream_label != label:
                raise ResourceNotFoundException(f"Requested resource not found: Stream: {arn} not found")
            return table, label, arn
        if table is None:
            raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
        return table, "", arn

    def _current(self, table: TableRecord, label: str) -> dict[str, Any] | None:
        raw = self.store.db.get(policy_key(table.uid, label))
        return None if raw is None else json.loads(raw)  # type: ignore[no-any-return]

    def put_resource_policy(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        table, label, arn = self._policy_target(p.get("ResourceArn"))
        document = p.get("Policy")
        if not isinstance(document, str) or not document:
            raise ValidationException("1 validation error detected: Value null at 'policy' failed to satisfy "
                                      "constraint: Member must not be null")
        if len(document.encode("utf-8")) > MAX_POLICY_BYTES:
            raise ValidationException(
                f"Policy document size exceeds the maximum allowed size of {MAX_POLICY_BYTES} bytes")
        try:
            parse_policy(document, RESOURCE)
        except MalformedPolicy as err:
            raise ValidationException(f"Invalid policy document: {err}") from None
        expected = p.get("ExpectedRevisionId")
        with self.store.lock(table.uid):
            current = self._current(table, label)
            _check_expected(current, expected, arn, table.name)
            if current is not None and current["policy"] == document:
                return {"RevisionId": current["revision"]}
            revision = int(time.time() * 1000)
            if current is not None:
                revision = max(revision, int(current["revision"]) + 1)
            stored = {"policy": document, "revision": str(revision)}
            self.store.db.write_batch([(policy_key(table.uid, label), json.dumps(stored).encode())])
        return {"RevisionId": stored["revision"]}

    def get_resource_policy(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        table, label, arn = self._policy_target(p.get("ResourceArn"))
        current = self._current(table, label)
        if current is None:
            raise PolicyNotFoundException(_NOT_FOUND_PREFIX + arn)
        return {"Policy": current["policy"], "RevisionId": current["revision"]}

    def delete_resource_policy(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        table, label, arn = self._policy_target(p.get("ResourceArn"))
        with self.store.lock(table.uid):
            current = self._current(table, label)
            if current is None:
                raise PolicyNotFoundException(_NOT_FOUND_PREFIX + arn)
            _check_expected(current, p.get("ExpectedRevisionId"), arn, table.name)
            self.store.db.write_batch([(policy_key(table.uid, label), None)])
        return {"RevisionId": current["revision"]}

    def resource_policy(self, arn: str) -> tuple[str | None, str] | None:
        """The auth layer's hook (awsemu/auth/enforcement.py): a table's or stream's policy and owner."""
        return policy_for_arn(self.store.db, arn)

    def drop_policies(self, record: TableRecord) -> None:
        """A deleted table's policies go with it."""
        start, end = policies_range(record.uid)
        rows: list[tuple[bytes, bytes | None]] = [(k, None) for k, _ in self.store.db.scan(start, end)]
        if rows:
            self.store.db.write_batch(rows)


def _check_expected(current: dict[str, Any] | None, expected: str | None, arn: str, table: str) -> None:
    if expected is None:
        return
    if expected == "NO_POLICY":
        if current is not None:
            raise PolicyNotFoundException(
                _NOT_FOUND_PREFIX + f"Requested policy update expecting none to be present for table {table}, "
                f"but a policy exists with revision id {current['revision']}."
            )
        return
    if current is None:
        raise PolicyNotFoundException(_NOT_FOUND_PREFIX + arn)
    if current["revision"] != expected:
        raise PolicyNotFoundException(
            _NOT_FOUND_PREFIX + f"Requested update for policy with revision id {expected}, but the policy "
            f"associated to target table {table} has revision id {current['revision']}."
        )
