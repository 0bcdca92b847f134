"""ListQueues and ListDeadLetterSourceQueues, as a provider mixin.

Both page the same way: an opaque NextToken that carries the last queue name returned, so the next
page is a range scan that starts after it. The token is base64 JSON; anything else is AWS's
``InvalidParameterValue: Invalid NextToken value.``
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable, Iterable

from awsemu.services.base import CallContext
from awsemu.services.sqs import keys
from awsemu.services.sqs.dead_letters import source_queues
from awsemu.services.sqs.errors import InvalidParameterValue, invalid_parameter
from awsemu.services.sqs.message_store import QueueState
from awsemu.services.sqs.records import QueueRecord

MAX_RESULTS = 1000


def _check_max_results(max_results: int | None) -> None:
    if max_results is not None and not 1 <= max_results <= MAX_RESULTS:
        raise invalid_parameter(
            "MaxResults", max_results, f"MaxResults must be an integer between 1 and {MAX_RESULTS}."
        )


def _after(next_token: str | None) -> str | None:
    """The queue name a NextToken resumes after (None for the first page)."""
    if not next_token:
        return None
    try:
        return str(json.loads(base64.b64decode(next_token, validate=True))["after"])
    except Exception:
        raise InvalidParameterValue("Invalid NextToken value.") from None


def _token(last: str) -> str:
    return base64.b64encode(json.dumps({"after": last}).encode()).decode()


class QueueListingOperations:
    db: Any

    # implemented by SqsProvider
    _queue: Callable[[CallContext, str | None], QueueState]
    _url: Callable[[CallContext, QueueRecord], str]

    def _page(
        self, ctx: CallContext, records: Iterable[QueueRecord], limit: int | None
    ) -> tuple[list[str], str | None]:
        """URLs of up to ``limit`` records, and the NextToken when more remain."""
        urls: list[str] = []
        last = None
        for record in records:
            if limit is not None and len(urls) == limit:
                return urls, _token(last) if last is not None else None
            urls.append(self._url(ctx, record))
            last = record.name
        return urls, None

    def list_queues(
        self, ctx: CallContext, QueueNamePrefix: str | None = None, NextToken: str | None = None,
        MaxResults: int | None = None,
    ) -> dict[str, Any]:
        _check_max_results(MaxResults)
        prefix = QueueNamePrefix or ""
        after = _after(NextToken)
        start, end = keys.queues_range(ctx.account_id, ctx.region, after)
        if prefix and after is None:
            start = max(start, keys.queue(ctx.account_id, ctx.region, prefix))

        def matching() -> Iterable[QueueRecord]:
            for _, raw in self.db.scan(start, end):
                record = QueueRecord.from_bytes(raw)
                if record.name.startswith(prefix):
                    yield record
                elif record.name > prefix:
                    return

        # Without MaxResults AWS answers at most 1000 URLs and no token.
        urls, token = self._page(ctx, matching(), MaxResults or MAX_RESULTS)
        out: dict[str, Any] = {}
        if urls:
            out["QueueUrls"] = urls
        if token is not None and MaxResults is not None:
            out["NextToken"] = token
        return out

    def list_dead_letter_source_queues(
        self, ctx: CallContext, QueueUrl: str, NextToken: str | None = None, MaxResults: int | None = None
    ) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        _check_max_results(MaxResults)
        urls, token = self._page(ctx, source_queues(self.db, q.record, _after(NextToken)), MaxResults)
        out: dict[str, Any] = {"queueUrls": urls}
        if token is not None:
            out["NextToken"] = token
        return out
