"""How a request names a table: by name, in the caller's own account and region, or by the table's
ARN, which names the account and region too.

Every parameter that takes a TableName (item operations, Query/Scan, the keys of BatchGetItem and
BatchWriteItem RequestItems, TransactGet/WriteItems entries, DescribeTable, UpdateTable,
DeleteTable, TTL, backups, continuous backups, contributor insights) also takes the table's ARN
("You can also provide the Amazon Resource Name (ARN) of the table in this parameter", API
reference). An ARN of another account names THAT account's table: this is how a principal reaches
a table shared with it by a resource-based policy (the auth layer has already evaluated the
owner's policy by then, from the same ARN). An ARN of another region is a table this regional
endpoint does not serve: ResourceNotFoundException, as for a missing table. An ARN that is not a
table ARN (an index or stream ARN, another service, a malformed one) is a ValidationException.

Responses that echo a table (ConsumedCapacity.TableName, the BatchGetItem/BatchWriteItem maps)
echo it as the request named it; :attr:`TableRecord.name_as_given` carries that.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from awsemu.services.base import CallContext
from awsemu.services.dynamodb.errors import ValidationException

_NAME_RE = re.compile(r"[a-zA-Z0-9_.\-]+\Z")
# Partition, region, 12-digit account, and one path segment after "table/" (no index or stream).
_TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):(\d{12}):table/([^/]+)\Z")


class TableRef(NamedTuple):
    """A table as a request names it: where it lives, and the request's own words for it."""

    account: str
    region: str
    name: str
    given: str  # the name or ARN exactly as the request sent it

    @property
    def by_arn(self) -> bool:
        return self.given != self.name


def check_table_name(name: Any, member: str = "tableName") -> str:
    """A plain table name, checked as DynamoDB checks the TableName member (length 3-255, pattern)."""
    if not isinstance(name, str):
        raise ValidationException(f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null")
    if len(name) < 3:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3"
        )
    if len(name) > 255:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: "
            "Member must have length less than or equal to 255"
        )
    if not _NAME_RE.match(name):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return name


def table_ref(ctx: CallContext, value: Any, member: str = "tableName") -> TableRef:
    """Resolve a TableName parameter (a name or a table ARN) to the table it names."""
    if isinstance(value, str) and value.startswith("arn:"):
        match = _TABLE_ARN.match(value)
        if match is None:
            raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {value}")
        region, account, name = match.groups()
        return TableRef(account, region, check_table_name(name, member), value)
    name = check_table_name(value, member)
    return TableRef(ctx.account_id, ctx.region, name, name)


def own_table_name(ctx: CallContext, value: Any, member: str = "tableName") -> str:
    """The name of a table the caller's own account makes here (CreateTable, a restore's target):
    a name, or an ARN of the caller's account and region."""
    ref = table_ref(ctx, value, member)
    if (ref.account, ref.region) != (ctx.account_id, ctx.region):
        raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {ref.given}")
    return ref.name
