"""Alias operations (Create/Get/Update/Delete/ListAliases), mixed into LambdaProvider.

An alias names a version and may send a share of invocations to other versions
(``RoutingConfig.AdditionalVersionWeights``); the invoke path picks the version per call.
"""

from __future__ import annotations

import threading
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_.checks import Fn, marker, page_size, revision_check, unmarker
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.services.lambda_.errors import (
    ResourceConflictException,
    ResourceNotFoundException,
    function_not_found,
    validation,
)
from awsemu.services.lambda_.functions import LATEST, AliasRecord, FunctionStore, new_revision


class AliasOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock`` and the helpers below."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock

    def _alias_version_check(self, fn: Fn, version: str) -> None:
        if version != LATEST and (not version.isdigit() or self.store.version(*fn, int(version)) is None):
            raise function_not_found(self._arn(fn, version))

    @staticmethod
    def _weights(routing: dict[str, Any] | None) -> dict[str, float]:
        weights = dict((routing or {}).get("AdditionalVersionWeights") or {})
        for version, weight in weights.items():
            if not 0.0 <= float(weight) <= 1.0:
                raise validation(weight, "routingConfig.additionalVersionWeights", "Member must have value between 0.0 and 1.0")
        return {str(k): float(v) for k, v in weights.items()}

    def create_alias(self, ctx: CallContext, FunctionName: str, Name: str, FunctionVersion: str,
                     Description: str = "", RoutingConfig: dict[str, Any] | None = None) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        fx.check_alias_name(Name)
        weights = self._weights(RoutingConfig)
        with self._lock:
            self.store.require_meta(*fn)
            self._alias_version_check(fn, FunctionVersion)
            for version in weights:
                self._alias_version_check(fn, version)
            if self.store.alias(*fn, Name) is not None:
                raise ResourceConflictException(f"Alias already exists: {self._arn(fn, Name)}")
            alias = AliasRecord(Name, FunctionVersion, Description or "", weights, new_revision())
            self.db.put(fx.alias_key(*fn, Name), alias.to_bytes())
            self._invalidate(fn)  # environments run versions, not aliases: none is stale
        return alias.output(self._arn(fn))

    def _require_alias(self, fn: Fn, name: str) -> AliasRecord:
        self.store.require_meta(*fn)
        alias = self.store.alias(*fn, name)
        if alias is None:
            raise ResourceNotFoundException(f"Alias not found: {self._arn(fn, name)}")
        return alias

    def get_alias(self, ctx: CallContext, FunctionName: str, Name: str) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        return self._require_alias(fn, Name).output(self._arn(fn))

    def update_alias(self, ctx: CallContext, FunctionName: str, Name: str, FunctionVersion: str | None = None,
                     Description: str | None = None, RoutingConfig: dict[str, Any] | None = None,
                     RevisionId: str | None = None) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        with self._lock:
            alias = self._require_alias(fn, Name)
            revision_check(RevisionId, alias.revision_id)
            if FunctionVersion is not None:
                self._alias_version_check(fn, FunctionVersion)
                alias.function_version = FunctionVersion
            if Description is not None:
                alias.description = Description
            if RoutingConfig is not None:
                alias.additional_weights = self._weights(RoutingConfig)
                for version in alias.additional_weights:
                    self._alias_version_check(fn, version)
            alias.revision_id = new_revision()
            self.db.put(fx.alias_key(*fn, Name), alias.to_bytes())
            self._invalidate(fn)  # environments run versions, not aliases: none is stale
        return alias.output(self._arn(fn))

    def delete_alias(self, ctx: CallContext, FunctionName: str, Name: str) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        with self._lock:
            meta = self.store.require_meta(*fn)
            # the alias's own resource policy, async settings, URL and provisioned concurrency go with it
            for per_qualifier in (meta.policy, meta.event_invoke, meta.urls, meta.settings.get("provisioned", {})):
                per_qualifier.pop(Name, None)
            self.db.write_batch([(fx.alias_key(*fn, Name), None), (fx.meta_key(*fn), meta.to_bytes())])
            self._invalidate(fn)  # environments run versions, not aliases: none is stale
        return {}

    def list_aliases(self, ctx: CallContext, FunctionName: str, FunctionVersion: str | None = None,
                     Marker: str | None = None, MaxItems: int | None = None) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        size = page_size(MaxItems)
        self.store.require_meta(*fn)
        after = unmarker(Marker)
        items: list[dict[str, Any]] = []
        out: dict[str, Any] = {}
        for alias in self.store.aliases(*fn):
            if after is not None and alias.name <= after:
                continue
            if FunctionVersion is not None and alias.function_version != FunctionVersion:
                continue
            if len(items) == size:
                out["NextMarker"] = marker(items[-1]["Name"])
                break
            items.append(alias.output(self._arn(fn)))
        out["Aliases"] = items
        return out
