"""Provisioned concurrency (Put/Get/Delete/ListProvisionedConcurrencyConfig[s]), mixed into LambdaProvider.

A configuration belongs to a published version or an alias (never to $LATEST, nor to an alias that
points at $LATEST) and is kept in the function's meta record, ``settings["provisioned"]``, per
qualifier: ``{"requested": n, "modified": <LastModified>}``. Deleting the function deletes it with the
record; deleting an alias drops the alias's (alias_ops.py); a configuration whose version or alias
no longer exists is skipped and never shown.

Concurrency accounting, as Lambda's rules read: with reserved concurrency R on the function, the
provisioned concurrency of all its versions and aliases together may not exceed R; without it,
provisioned concurrency comes out of the account's unreserved pool (1000 minus every function's
reserved concurrency minus the provisioned concurrency of functions without reserved concurrency),
which must keep at least 100. A version provisioned directly and through an alias at once is a
conflict, both ways.

Environments: each configuration keeps that many initialized execution environments of its version
(provisioned_envs.py, at most AWSEMU_LAMBDA_PROVISIONED_MAX of them per version): after every change
of the function's records (``_sync_provisioned``, called by the provider's ``_invalidate``) the
wanted state of the function is recomputed and handed to the invoker's ProvisionedEnvironments, and
at server start (``_sync_all_provisioned``) every stored configuration is warmed again. Status:
PutProvisionedConcurrencyConfig answers 202 with Status IN_PROGRESS and nothing allocated, as Lambda
does; later reads show IN_PROGRESS with the number of initialized environments allocated until all
of them (up to the cap) are, then READY with Allocated = Available = Requested; FAILED with a
StatusReason when the function's init fails in them (retried after the next change of the function).
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_.checks import ACCOUNT_CONCURRENCY, MIN_UNRESERVED, Fn, marker, unmarker
from awsemu.services.lambda_.errors import (
    InvalidParameterValueException,
    ProvisionedConcurrencyConfigNotFoundException,
    ResourceConflictException,
    ResourceNotFoundException,
    function_not_found,
    validation,
)
from awsemu.services.lambda_.functions import LATEST, FunctionMeta, FunctionStore
from awsemu.services.lambda_.invoke import Invoker, env_key
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.services.lambda_.provisioned_envs import Wanted
from awsemu.storage.lsm.keycodec import decode, encode, prefix_end

LIST_MAX = 50
NOT_PUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
NOT_A_VERSION = "The function resource provided must be an alias or a published version."


def provisioned_of(meta: FunctionMeta) -> dict[str, dict[str, Any]]:
    """The function's provisioned concurrency configurations by qualifier (a live view of the record)."""
    found: dict[str, dict[str, Any]] = meta.settings.setdefault("provisioned", {})
    return found


def _timestamp() -> str:
    """Provisioned concurrency's LastModified format: ``2026-11-27T16:20:00+0000``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


class ProvisionedConcurrencyOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock`` and the helpers of ProviderParts."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock
    invoker: Invoker
    config: Any
    _on_loop: Any

    # -- the environments (provisioned_envs.py) ----------------------------------------------------
    def _provisioned_wanted(self, fn: Fn, endpoint: str | None = None) -> dict[Any, Wanted]:
        """The function's wanted provisioned environments per version key (empty once it is gone)."""
        meta = self.store.meta(*fn)
        if meta is None or not meta.settings.get("provisioned"):
            return {}
        wanted: dict[Any, Wanted] = {}
        for qualifier, config in self._live(fn, meta).items():
            try:
                version = self.store.resolve(*fn, qualifier)
            except ResourceNotFoundException:
                continue
            key = env_key(version)
            before = wanted.get(key)
            count = config["requested"] + (before.count if before is not None else 0)
            wanted[key] = Wanted(count, version, endpoint or config.get("endpoint", "http://127.0.0.1:4566"))
        return wanted

    def _sync_provisioned(self, fn: Fn) -> None:
        """Hand the function's wanted provisioned environments to the invoker (on the event loop)."""
        self._on_loop(self.invoker.provisioned.set_function, fn, self._provisioned_wanted(fn))

    def _sync_all_provisioned(self) -> None:
        """At server start: warm every stored configuration again. Environments reach awsemu at the
        configured address, or (``--port 0``) at the address of the Put that configured them."""
        host, port = getattr(self.config, "host", "127.0.0.1"), getattr(self.config, "port", 0)
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        endpoint = f"http://{host}:{port}" if port else None
        start = encode("lambda", "fn")
        end = prefix_end(start)
        for key, _ in self.db.scan(start, end):
            fn = tuple(str(part) for part in decode(key)[2:5])
            wanted = self._provisioned_wanted(fn, endpoint)  # type: ignore[arg-type]
            if wanted:
                self._on_loop(self.invoker.provisioned.set_function, fn, wanted)

    def _provisioned_target(self, ctx: CallContext, function_name: str, qualifier: str,
                            latest_error: str) -> tuple[Fn, str, str]:
        """(function, qualifier, the version it means) of a version or alias that exists."""
        fn, resolved = self._target(ctx, function_name, qualifier)
        if resolved is None or resolved == LATEST:
            raise InvalidParameterValueException(latest_error)
        self.store.require_meta(*fn)
        if resolved.isdigit():
            if self.store.version(*fn, int(resolved)) is None:
                raise function_not_found(self._arn(fn, resolved))
            return fn, resolved, resolved
        alias = self.store.alias(*fn, resolved)
        if alias is None:
            raise ResourceNotFoundException(f"Cannot find alias arn: {self._arn(fn, resolved)}")
        return fn, resolved, alias.function_version

    def _live(self, fn: Fn, meta: FunctionMeta) -> dict[str, dict[str, Any]]:
        """The configurations whose version or alias still exists."""
        live = {}
        for qualifier, config in provisioned_of(meta).items():
            exists = (self.store.version(*fn, int(qualifier)) is not None if qualifier.isdigit()
                      else self.store.alias(*fn, qualifier) is not None)
            if exists:
                live[qualifier] = config
        return live

    def _provisioned_total(self, fn: Fn, meta: FunctionMeta) -> int:
        """The provisioned concurrency of all the function's versions and aliases together."""
        return sum(c["requested"] for c in self._live(fn, meta).values())

    def _check_capacity(self, fn: Fn, meta: FunctionMeta, qualifier: str, requested: int) -> None:
        others = sum(c["requested"] for q, c in self._live(fn, meta).items() if q != qualifier)
        if meta.reserved_concurrency is not None:
            if others + requested > meta.reserved_concurrency:
                raise InvalidParameterValueException(
                    "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution "
                    "for function"
                )
            return
        unreserved = ACCOUNT_CONCURRENCY
        for other in self.store.all_metas(fn[0], fn[1]):
            if other.reserved_concurrency is not None:
                unreserved -= other.reserved_concurrency
            elif other.name != fn[2]:
                unreserved -= self._provisioned_total((fn[0], fn[1], other.name), other)
        if unreserved - others - requested < MIN_UNRESERVED:
            raise InvalidParameterValueException(
                "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
                f"below its minimum value of [{MIN_UNRESERVED}]."
            )

    def _check_overlap(self, fn: Fn, qualifier: str, version: str, live: dict[str, dict[str, Any]]) -> None:
        if version == LATEST:
            raise InvalidParameterValueException(NOT_PUBLISHED)
        if not qualifier.isdigit():
            if version in live:
                raise ResourceConflictException(
                    "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
                )
            return
        for alias in self.store.aliases(*fn):
            if alias.function_version == qualifier and alias.name in live:
                raise ResourceConflictException("Version is pointed by a Provisioned Concurrency alias")

    def _provisioned_output(self, fn: Fn, qualifier: str, config: dict[str, Any],
                            just_requested: bool = False) -> dict[str, Any]:
        requested = config["requested"]
        allocated, failure = (0, "") if just_requested else self._allocated(fn, qualifier, requested)
        out = {
            "RequestedProvisionedConcurrentExecutions": requested,
            "AvailableProvisionedConcurrentExecutions": allocated,
            "AllocatedProvisionedConcurrentExecutions": allocated,
            "Status": "FAILED" if failure else "READY" if allocated == requested else "IN_PROGRESS",
            "LastModified": config["modified"],
        }
        if failure:
            out["StatusReason"] = f"Provisioned concurrency environments failed to initialize: {failure}"
        return out

    def _allocated(self, fn: Fn, qualifier: str, requested: int) -> tuple[int, str]:
        """(allocated, why they failed or ""): requested once the version's environments are
        initialized (up to the cap: the rest are counted, not started), else how many are."""
        try:
            key = env_key(self.store.resolve(*fn, qualifier))
        except ResourceNotFoundException:
            return 0, ""
        status = self.invoker.provisioned.status.get(key)
        if status is None:  # not handed to the event loop yet (or no loop: records only)
            return (0 if self._loop_running() else requested), ""
        ready, target, failure = status
        return (requested if ready >= target else min(ready, requested)), failure

    def _loop_running(self) -> bool:
        """Whether environments run at all (a provider with no event loop only keeps records)."""
        return getattr(self, "loop", None) is not None

    def put_provisioned_concurrency_config(self, ctx: CallContext, FunctionName: str, Qualifier: str,
                                           ProvisionedConcurrentExecutions: int) -> dict[str, Any]:
        if ProvisionedConcurrentExecutions < 1:
            raise validation(ProvisionedConcurrentExecutions, "provisionedConcurrentExecutions",
                             "Member must have value greater than or equal to 1")
        with self._lock:
            fn, qualifier, version = self._provisioned_target(ctx, FunctionName, Qualifier, NOT_PUBLISHED)
            meta = self.store.require_meta(*fn)
            live = self._live(fn, meta)
            self._check_overlap(fn, qualifier, version, live)
            self._check_capacity(fn, meta, qualifier, ProvisionedConcurrentExecutions)
            configs = provisioned_of(meta)
            for stale in set(configs) - set(live):
                del configs[stale]
            config = {"requested": ProvisionedConcurrentExecutions, "modified": _timestamp(),
                      "endpoint": ctx.endpoint}
            configs[qualifier] = config
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return self._provisioned_output(fn, qualifier, config, just_requested=True)

    def get_provisioned_concurrency_config(self, ctx: CallContext, FunctionName: str, Qualifier: str) -> dict[str, Any]:
        fn, qualifier, _ = self._provisioned_target(ctx, FunctionName, Qualifier, NOT_A_VERSION)
        config = provisioned_of(self.store.require_meta(*fn)).get(qualifier)
        if config is None:
            raise ProvisionedConcurrencyConfigNotFoundException("No Provisioned Concurrency Config found for this function")
        return self._provisioned_output(fn, qualifier, config)

    def delete_provisioned_concurrency_config(self, ctx: CallContext, FunctionName: str,
                                              Qualifier: str) -> dict[str, Any]:
        with self._lock:
            fn, qualifier, _ = self._provisioned_target(ctx, FunctionName, Qualifier, NOT_A_VERSION)
            meta = self.store.require_meta(*fn)
            if provisioned_of(meta).pop(qualifier, None) is not None:
                self.db.put(fx.meta_key(*fn), meta.to_bytes())
                self._invalidate(fn)
        return {}

    def list_provisioned_concurrency_configs(self, ctx: CallContext, FunctionName: str, Marker: str | None = None,
                                             MaxItems: int | None = None) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        if MaxItems is not None and not 1 <= MaxItems <= LIST_MAX:
            raise validation(MaxItems, "maxItems", f"Member must have value between 1 and {LIST_MAX}")
        size = MaxItems or LIST_MAX
        after = unmarker(Marker)
        live = self._live(fn, self.store.require_meta(*fn))
        qualifiers = sorted(q for q in live if after is None or q > after)
        out: dict[str, Any] = {"ProvisionedConcurrencyConfigs": [
            {"FunctionArn": self._arn(fn, q), **self._provisioned_output(fn, q, live[q])} for q in qualifiers[:size]
        ]}
        if len(qualifiers) > size:
            out["NextMarker"] = marker(qualifiers[size - 1])
        return out
