"""Account settings, tags and reserved concurrency, mixed into LambdaProvider.

Reserved concurrency is checked by invoke.py (TooManyRequestsException when a function's in-flight
invocations reach it); here it is only stored, within the account's limit of 1000 of which 100
must stay unreserved, as in AWS, and never below the provisioned concurrency of the function's
versions and aliases together (provisioned concurrency counts toward reserved concurrency).
GetAccountSettings' UnreservedConcurrentExecutions is the limit minus every function's reserved
concurrency minus the provisioned concurrency of functions without reserved concurrency (that comes
out of the unreserved pool; a function with reserved concurrency provisions out of its own).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_.checks import ACCOUNT_CONCURRENCY, MIN_UNRESERVED, Fn
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.services.lambda_.errors import InvalidParameterValueException, validation
from awsemu.services.lambda_.functions import FunctionStore


class AccountOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock`` and the helpers below."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock
    _provisioned_total: Callable[[Fn, Any], int]

    def get_account_settings(self, ctx: CallContext) -> dict[str, Any]:
        reserved = 0
        count = 0
        total = 0
        for meta in self.store.all_metas(ctx.account_id, ctx.region):
            count += 1
            if meta.reserved_concurrency is not None:
                reserved += meta.reserved_concurrency
            else:
                reserved += self._provisioned_total((ctx.account_id, ctx.region, meta.name), meta)
            seen: set[str] = set()
            for config in self.store.versions(ctx.account_id, ctx.region, meta.name):
                if config.blob_id not in seen:
                    seen.add(config.blob_id)
                    total += config.code_size
        return {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": ACCOUNT_CONCURRENCY,
                "UnreservedConcurrentExecutions": ACCOUNT_CONCURRENCY - reserved,
            },
            "AccountUsage": {"TotalCodeSize": total, "FunctionCount": count},
        }

    def _tag_target(self, ctx: CallContext, resource: str) -> Fn:
        fn, qualifier = self._target(ctx, resource, member="resource")
        if qualifier is not None:
            raise InvalidParameterValueException("Tags are not supported on function versions or aliases.")
        return fn

    def tag_resource(self, ctx: CallContext, Resource: str, Tags: dict[str, str]) -> dict[str, Any]:
        fn = self._tag_target(ctx, Resource)
        with self._lock:
            meta = self.store.require_meta(*fn)
            meta.tags.update(Tags)
            if len(meta.tags) > 50:
                raise InvalidParameterValueException("Number of tags exceeds resource tag limit.")
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {}

    def untag_resource(self, ctx: CallContext, Resource: str, TagKeys: list[str]) -> dict[str, Any]:
        fn = self._tag_target(ctx, Resource)
        with self._lock:
            meta = self.store.require_meta(*fn)
            for key in TagKeys:
                meta.tags.pop(key, None)
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {}

    def list_tags(self, ctx: CallContext, Resource: str) -> dict[str, Any]:
        fn = self._tag_target(ctx, Resource)
        return {"Tags": dict(self.store.require_meta(*fn).tags)}

    def put_function_concurrency(self, ctx: CallContext, FunctionName: str,
                                 ReservedConcurrentExecutions: int) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        if ReservedConcurrentExecutions < 0:
            raise validation(ReservedConcurrentExecutions, "reservedConcurrentExecutions",
                             "Member must have value greater than or equal to 0")
        with self._lock:
            meta = self.store.require_meta(*fn)
            others = sum(m.reserved_concurrency if m.reserved_concurrency is not None
                         else self._provisioned_total((fn[0], fn[1], m.name), m)
                         for m in self.store.all_metas(fn[0], fn[1]) if m.name != fn[2])
            if ACCOUNT_CONCURRENCY - others - ReservedConcurrentExecutions < MIN_UNRESERVED:
                raise InvalidParameterValueException(
                    "Specified ReservedConcurrentExecutions for function decreases account's "
                    f"UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
                )
            provisioned = self._provisioned_total(fn, meta)
            if ReservedConcurrentExecutions < provisioned:
                raise InvalidParameterValueException(
                    f"ReservedConcurrentExecutions {ReservedConcurrentExecutions} should not be lower than "
                    f"function's total provisioned concurrency [{provisioned}]."
                )
            meta.reserved_concurrency = ReservedConcurrentExecutions
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {"ReservedConcurrentExecutions": ReservedConcurrentExecutions}

    def get_function_concurrency(self, ctx: CallContext, FunctionName: str) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        meta = self.store.require_meta(*fn)
        if meta.reserved_concurrency is None:
            return {}
        return {"ReservedConcurrentExecutions": meta.reserved_concurrency}

    def delete_function_concurrency(self, ctx: CallContext, FunctionName: str) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        with self._lock:
            meta = self.store.require_meta(*fn)
            meta.reserved_concurrency = None
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {}
