"""Invoke and the asynchronous (Event) invocations it queues, mixed into LambdaProvider.

The data-plane path of a function: :meth:`InvokeOperations._lookup` turns (function, qualifier)
into the version to run, from a read cache that every change of the function drops (the provider's
``_invalidate`` bumps ``_generation``, so a lookup that raced a change does not store its stale
answer); an alias with ``RoutingConfig`` picks one of its versions per call. ``invoke`` runs
RequestResponse calls on invoke.py's Invoker and queues Event calls in lsm; the Invoker runs each
queued event through ``_run_event`` and reports its end through ``_report_event`` (dead-letter
queue, OnSuccess/OnFailure destinations). Event source mappings' pollers invoke through
``_invoke_for_source``. InvokeWithResponseStream (stream_ops.py) and function URLs share
``_lookup``.
"""

from __future__ import annotations

import asyncio
import base64
import random
import time
from typing import Any

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.lambda_ import delivery
from awsemu.services.lambda_.checks import Fn, check_invoke_input
from awsemu.services.lambda_.errors import function_not_found, throttled, validation
from awsemu.services.lambda_.event_invoke_config import async_settings
from awsemu.services.lambda_.functions import LATEST, AliasRecord, FunctionMeta, FunctionStore, VersionConfig
from awsemu.services.lambda_.hot_reload import fingerprint
from awsemu.services.lambda_.invoke import Caller, Invoker, InvokeResult, root_access_key
from awsemu.services.lambda_.provider_parts import ProviderParts


class InvokeOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``invoker``, ``pool``, the read cache (``_cache``,
    ``_generation``), the hot-reload fingerprints (``_hot_prints``) and the helpers of ProviderParts."""

    db: Any
    store: FunctionStore
    invoker: Invoker
    _cache: dict[Fn, dict[str | None, tuple[FunctionMeta, AliasRecord | None, dict[str, VersionConfig]]]]
    _generation: dict[Fn, int]
    pool: Any
    _hot_prints: dict[Fn, dict[str, str]]  # function -> version -> directory fingerprint last run

    def _resolve_for_invoke(self, fn: Fn, qualifier: str | None
                            ) -> tuple[FunctionMeta, AliasRecord | None, dict[str, VersionConfig]]:
        """(meta, alias, versions the qualifier may run) from lsm (blocking)."""
        meta = self.store.meta(*fn)
        if meta is None:
            raise function_not_found(self._arn(fn))
        alias = None
        if qualifier not in (None, LATEST) and not str(qualifier).isdigit():
            alias = self.store.alias(*fn, str(qualifier))
            if alias is None:
                raise function_not_found(self._arn(fn, qualifier))
            wanted = [alias.function_version, *alias.additional_weights]
        else:
            wanted = [qualifier or LATEST]
        versions = {}
        for version in wanted:
            versions[version] = self.store.resolve(*fn, version)
        return meta, alias, versions

    async def _lookup(self, fn: Fn, qualifier: str | None) -> tuple[FunctionMeta, VersionConfig]:
        entry = self._cache.get(fn, {}).get(qualifier)
        if entry is None:
            generation = self._generation.get(fn, 0)
            entry = await asyncio.to_thread(self._resolve_for_invoke, fn, qualifier)
            if self._generation.get(fn, 0) == generation:
                self._cache.setdefault(fn, {})[qualifier] = entry
        meta, alias, versions = entry
        if alias is None:
            config = next(iter(versions.values()))
        else:
            config = versions[alias.function_version]
            roll = random.random()
            for version, weight in alias.additional_weights.items():
                if roll < weight:
                    config = versions[version]
                    break
                roll -= weight
        if config.code_dir:
            await self._reload_if_edited(fn, config)
        return meta, config

    async def _reload_if_edited(self, fn: Fn, config: VersionConfig) -> None:
        """Hot reload: retire the function's environments when its directory changed since they
        started (hot_reload.py), so this invoke runs the code as it is on disk now."""
        printed = await asyncio.to_thread(fingerprint, config.code_dir)
        seen = self._hot_prints.setdefault(fn, {})
        previous = seen.get(config.version)
        seen[config.version] = printed
        if previous is not None and previous != printed:
            self.pool.retire(lambda key: key[:3] == fn)

    async def invoke(self, ctx: CallContext, FunctionName: str, InvocationType: str | None = None,
                     LogType: str | None = None, ClientContext: str | None = None, Payload: bytes | None = None,
                     Qualifier: str | None = None, **unused: Any) -> dict[str, Any]:
        fn, qualifier = self._target(ctx, FunctionName, Qualifier)
        kind = InvocationType or "RequestResponse"
        if kind not in ("RequestResponse", "Event", "DryRun"):
            raise validation(kind, "invocationType", "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
        payload = Payload or b""
        client_context = await check_invoke_input(payload, ClientContext, event=kind == "Event")
        meta, config = await self._lookup(fn, qualifier)
        if kind == "DryRun":
            return {"StatusCode": 204}
        caller = Caller(ctx.endpoint)
        invoked_arn = self._arn(fn, qualifier)
        if kind == "Event":
            if meta.reserved_concurrency == 0:
                raise throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
            retries, max_age = async_settings(meta, qualifier)
            record = {
                "request_id": ctx.request_id, "account": fn[0], "region": fn[1], "name": fn[2],
                "qualifier": qualifier, "payload": base64.b64encode(payload).decode(),
                "endpoint": ctx.endpoint,
                "attempts": 0, "max_attempts": retries, "expires_at": time.time() + max_age,
            }
            key, value = self.invoker.enqueue_ops(record)
            await asyncio.to_thread(self.db.put, key, value)
            self.invoker.schedule(key, record, self._run_event, self._report_event)
            return {"StatusCode": 202}
        result = await self.invoker.invoke(config, meta.reserved_concurrency, payload, caller,
                                           invoked_arn=invoked_arn, tail=LogType == "Tail",
                                           client_context=client_context)
        out: dict[str, Any] = {"StatusCode": 200, "Payload": result.payload, "ExecutedVersion": result.executed_version}
        if result.function_error:
            out["FunctionError"] = result.function_error
        if result.log_result is not None:
            out["LogResult"] = result.log_result
        return out

    async def _report_event(self, record: dict[str, Any], result: InvokeResult | None) -> None:
        """Deliver how an async invocation ended: dead-letter queue and OnFailure/OnSuccess destinations."""
        if result is None:
            return
        fn = (record["account"], record["region"], record["name"])
        try:
            meta, config = await self._lookup(fn, record["qualifier"])
        except ServiceError:
            return  # the function is gone, and its settings with it
        failed = result.function_error is not None
        destinations = (meta.event_invoke.get(record["qualifier"] or "") or meta.event_invoke.get("") or {}).get(
            "DestinationConfig") or {}
        target = (destinations.get("OnFailure" if failed else "OnSuccess") or {}).get("Destination")
        payload = base64.b64decode(record["payload"])
        endpoint, key_id = record["endpoint"], root_access_key(record["account"])
        if target:
            document = delivery.invocation_record(
                request_id=record["request_id"], function_arn=self._arn(fn, config.version),
                condition="RetriesExhausted" if failed else "Success", attempts=record["attempts"] + 1,
                payload=payload, executed_version=result.executed_version,
                function_error=result.function_error, response=result.payload,
            )
            await asyncio.to_thread(delivery.send_to_queue, endpoint, key_id, target, document)
        if failed and config.dead_letter_target:
            attributes = delivery.dead_letter_attributes(record["request_id"], delivery.error_message_of(result.payload))
            await asyncio.to_thread(delivery.send_to_queue, endpoint, key_id, config.dead_letter_target,
                                    payload.decode("utf-8", "replace"), attributes)

    async def _run_event(self, record: dict[str, Any]) -> Any:
        fn = (record["account"], record["region"], record["name"])
        qualifier = record["qualifier"]
        meta, config = await self._lookup(fn, qualifier)
        caller = Caller(record["endpoint"])
        return await self.invoker.invoke(config, meta.reserved_concurrency, base64.b64decode(record["payload"]),
                                         caller, invoked_arn=self._arn(fn, qualifier))

    async def _invoke_for_source(self, fn: Fn, qualifier: str | None, payload: bytes, endpoint: str) -> InvokeResult:
        """A synchronous invoke on behalf of an event source mapping."""
        meta, config = await self._lookup(fn, qualifier)
        return await self.invoker.invoke(config, meta.reserved_concurrency, payload, Caller(endpoint),
                                         invoked_arn=self._arn(fn, qualifier))
