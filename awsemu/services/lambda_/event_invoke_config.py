"""Asynchronous invocation settings (Put/Get/Update/Delete/ListFunctionEventInvokeConfig[s]).

Kept in the function's meta record per qualifier (``""`` for the unqualified function). The Event
queue (invoke.py) reads MaximumRetryAttempts (default 2) and MaximumEventAgeInSeconds (default 6 h)
when an event is queued; when it ends, DestinationConfig OnSuccess/OnFailure (SQS queues) receives
the invocation record (delivery.py, from ``InvokeOperations._report_event``).
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_.checks import Fn, marker, page_size, unmarker
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.services.lambda_.errors import ResourceNotFoundException, validation
from awsemu.services.lambda_.functions import FunctionMeta, FunctionStore

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600


def async_settings(meta: FunctionMeta, qualifier: str | None) -> tuple[int, int]:
    """(MaximumRetryAttempts, MaximumEventAgeInSeconds) for an event sent to ``qualifier``."""
    config = meta.event_invoke.get(qualifier or "") or meta.event_invoke.get("") or {}
    return (int(config.get("MaximumRetryAttempts", DEFAULT_RETRIES)),
            int(config.get("MaximumEventAgeInSeconds", DEFAULT_MAX_AGE_S)))


class EventInvokeConfigOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock``, ``_target``, ``_arn``, ``_invalidate``."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock

    def _event_config_output(self, fn: Fn, qualifier: str, config: dict[str, Any]) -> dict[str, Any]:
        out = {"FunctionArn": self._arn(fn, qualifier or None),
               "LastModified": datetime.fromtimestamp(config["LastModified"], timezone.utc)}
        for name in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"):
            if config.get(name) is not None:
                out[name] = config[name]
        return out

    def _write_event_config(self, ctx: CallContext, function_name: str, qualifier: str | None,
                            values: dict[str, Any], merge: bool) -> dict[str, Any]:
        retries, age = values.get("MaximumRetryAttempts"), values.get("MaximumEventAgeInSeconds")
        if retries is not None and not 0 <= retries <= 2:
            raise validation(retries, "maximumRetryAttempts", "Member must have value between 0 and 2")
        if age is not None and not 60 <= age <= 21600:
            raise validation(age, "maximumEventAgeInSeconds", "Member must have value between 60 and 21600")
        with self._lock:
            fn, qualifier = self._target(ctx, function_name, qualifier)
            self.store.resolve(*fn, qualifier)
            meta = self.store.require_meta(*fn)
            key = qualifier or ""
            config = dict(meta.event_invoke.get(key, {})) if merge else {}
            config.update({k: v for k, v in values.items() if v is not None})
            config["LastModified"] = datetime.now(timezone.utc).timestamp()
            meta.event_invoke[key] = config
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return self._event_config_output(fn, key, config)

    def put_function_event_invoke_config(self, ctx: CallContext, FunctionName: str, Qualifier: str | None = None,
                                         MaximumRetryAttempts: int | None = None,
                                         MaximumEventAgeInSeconds: int | None = None,
                                         DestinationConfig: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._write_event_config(ctx, FunctionName, Qualifier, {
            "MaximumRetryAttempts": MaximumRetryAttempts, "MaximumEventAgeInSeconds": MaximumEventAgeInSeconds,
            "DestinationConfig": DestinationConfig}, merge=False)

    def update_function_event_invoke_config(self, ctx: CallContext, FunctionName: str,
                                            Qualifier: str | None = None, MaximumRetryAttempts: int | None = None,
                                            MaximumEventAgeInSeconds: int | None = None,
                                            DestinationConfig: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._write_event_config(ctx, FunctionName, Qualifier, {
            "MaximumRetryAttempts": MaximumRetryAttempts, "MaximumEventAgeInSeconds": MaximumEventAgeInSeconds,
            "DestinationConfig": DestinationConfig}, merge=True)

    def _missing_event_config(self, fn: Fn, qualifier: str | None) -> ResourceNotFoundException:
        return ResourceNotFoundException(
            f"The function {self._arn(fn, qualifier)} doesn't have an EventInvokeConfig"
        )

    def get_function_event_invoke_config(self, ctx: CallContext, FunctionName: str,
                                         Qualifier: str | None = None) -> dict[str, Any]:
        fn, qualifier = self._target(ctx, FunctionName, Qualifier)
        config = self.store.require_meta(*fn).event_invoke.get(qualifier or "")
        if config is None:
            raise self._missing_event_config(fn, qualifier)
        return self._event_config_output(fn, qualifier or "", config)

    def delete_function_event_invoke_config(self, ctx: CallContext, FunctionName: str,
                                            Qualifier: str | None = None) -> dict[str, Any]:
        with self._lock:
            fn, qualifier = self._target(ctx, FunctionName, Qualifier)
            meta = self.store.require_meta(*fn)
            if meta.event_invoke.pop(qualifier or "", None) is None:
                raise self._missing_event_config(fn, qualifier)
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {}

    def list_function_event_invoke_configs(self, ctx: CallContext, FunctionName: str, Marker: str | None = None,
                                           MaxItems: int | None = None) -> dict[str, Any]:
        fn, qualifier = self._target(ctx, FunctionName)
        size = page_size(MaxItems)
        after = unmarker(Marker)
        meta = self.store.require_meta(*fn)
        keys = sorted(k for k in meta.event_invoke if after is None or k > after)
        out: dict[str, Any] = {"FunctionEventInvokeConfigs": [
            self._event_config_output(fn, k, meta.event_invoke[k]) for k in keys[:size]]}
        if len(keys) > size:
            out["NextMarker"] = marker(keys[size - 1])
        return out
