"""Version operations (PublishVersion, ListVersionsByFunction), mixed into LambdaProvider.

A published version is a frozen copy of $LATEST's configuration under the next number of the
function's meta record (``FunctionMeta.last_version``), holding its own references on the code and
layer blobs. PublishVersion returns the newest version instead of publishing when $LATEST has not
changed since. CreateFunction and UpdateFunctionCode with ``Publish`` also publish, through
:meth:`VersionOperations._new_version` and :meth:`VersionOperations._publish_into`, inside their own
write batch; that is why these helpers take the list of lsm operations to extend.
"""

from __future__ import annotations

import threading
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_.checks import LIST_PAGE_MAX, Fn, marker, page_size, revision_check, unmarker
from awsemu.services.lambda_.errors import InvalidParameterValueException
from awsemu.services.lambda_.functions import (
    LATEST,
    FunctionMeta,
    FunctionStore,
    VersionConfig,
    function_arn,
    new_revision,
    now_lambda,
)
from awsemu.services.lambda_.provider_parts import ProviderParts


class VersionOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock`` and the helpers of ProviderParts."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock

    def publish_version(self, ctx: CallContext, FunctionName: str, CodeSha256: str | None = None,
                        Description: str | None = None, RevisionId: str | None = None,
                        **unused: Any) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        with self._lock:
            latest = self._latest(fn)
            meta = self.store.require_meta(*fn)
            if CodeSha256 is not None and CodeSha256 != latest.code_sha256:
                raise InvalidParameterValueException(
                    f"CodeSHA256 ({CodeSha256}) is different from current CodeSHA256 in $LATEST "
                    f"({latest.code_sha256}). Please try again."
                )
            revision_check(RevisionId, latest.revision_id)
            ops: list[tuple[bytes, bytes | None]] = []
            version = self._publish_into(fn, latest, meta, Description, ops)
            if ops:
                self.db.write_batch(ops)
                self._changed(fn)
        out = version.configuration()
        if ops:
            self._snapshot_later(ctx, out)
        return out

    def _publish_into(self, fn: Fn, latest: VersionConfig, meta: FunctionMeta, description: str | None,
                      ops: list[tuple[bytes, bytes | None]]) -> VersionConfig:
        """Publish $LATEST unless the newest version already is $LATEST's state (then return it)."""
        if meta.last_version:
            previous = self.store.version(*fn, meta.last_version)
            if previous is not None and latest.same_publishable_state(previous):
                return previous
        version = self._new_version(fn, latest, meta, description, ops)
        ops.append((fx.meta_key(*fn), meta.to_bytes()))
        return version

    def list_versions_by_function(self, ctx: CallContext, FunctionName: str, Marker: str | None = None,
                                  MaxItems: int | None = None) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        size = min(page_size(MaxItems), LIST_PAGE_MAX)
        self.store.require_meta(*fn)
        after = unmarker(Marker)
        start = int(after) if after is not None else -1
        items: list[dict[str, Any]] = []
        out: dict[str, Any] = {}
        for config in self.store.versions(*fn, after=start):
            if len(items) == size:
                out["NextMarker"] = marker(str(int(0 if items[-1]["Version"] == LATEST else items[-1]["Version"])))
                break
            item = config.configuration()
            if config.version == LATEST:  # this list qualifies every ARN, $LATEST's too
                item["FunctionArn"] = function_arn(config.region, config.account, config.name, LATEST)
            items.append(item)
        out["Versions"] = items
        return out

    def _new_version(self, fn: Fn, latest: VersionConfig, meta: FunctionMeta, description: str | None,
                     ops: list[tuple[bytes, bytes | None]]) -> VersionConfig:
        meta.last_version += 1
        number = meta.last_version
        version = VersionConfig(**{**latest.__dict__})
        version.version = str(number)
        version.revision_id = new_revision()
        version.last_modified = now_lambda()
        if description is not None:
            version.description = description
        ops.append((fx.version_key(*fn, number), version.to_bytes()))
        ops += self._ref_changes(None, version)
        return version
