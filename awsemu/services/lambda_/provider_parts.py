"""What the operation mixins of the Lambda provider use from it, declared once.

The provider (``provider.py``) composes topic mixins (versions, invoke, aliases, account, layers,
policies, URLs, event-invoke config, event source mappings, response streams); they call helpers
that :class:`LambdaProvider` (or, for ``_lookup``, the invoke mixin) implements. Declaring them here
keeps each mixin readable and type-checked on its own; this class is the last base of every mixin,
so the provider's and the mixins' own methods come first in the MRO and nothing here ever runs.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from awsemu.services.base import CallContext
from awsemu.services.lambda_.checks import Fn
from awsemu.services.lambda_.functions import FunctionStore

if TYPE_CHECKING:
    from awsemu.services.lambda_.code import Package
    from awsemu.services.lambda_.functions import VersionConfig


class ProviderParts:
    db: Any
    store: FunctionStore
    _lock: threading.RLock

    def _target(self, ctx: CallContext, function_name: str, qualifier: str | None = None,
                member: str = "functionName") -> tuple[Fn, str | None]:
        raise NotImplementedError  # LambdaProvider._target

    def _unqualified(self, ctx: CallContext, function_name: str) -> Fn:
        raise NotImplementedError  # LambdaProvider._unqualified

    def _invalidate(self, fn: Fn) -> None:
        raise NotImplementedError  # LambdaProvider._invalidate

    @staticmethod
    def _arn(fn: Fn, qualifier: str | None = None) -> str:
        raise NotImplementedError  # LambdaProvider._arn

    def _latest(self, fn: Fn) -> VersionConfig:
        raise NotImplementedError  # LambdaProvider._latest

    def _changed(self, fn: Fn) -> None:
        raise NotImplementedError  # LambdaProvider._changed

    def _ref_changes(self, old: VersionConfig | None, new: VersionConfig | None) -> list[tuple[bytes, bytes | None]]:
        raise NotImplementedError  # LambdaProvider._ref_changes

    def _snapshot_later(self, ctx: CallContext, published: dict[str, Any]) -> None:
        raise NotImplementedError  # LambdaProvider._snapshot_later

    async def _lookup(self, fn: Fn, qualifier: str | None) -> Any:
        raise NotImplementedError  # InvokeOperations._lookup (invoke_ops.py)

    async def _fetch_package(self, ctx: CallContext, code: dict[str, Any]) -> Package:
        raise NotImplementedError  # LambdaProvider._fetch_package

    def esm_changed(self, mapping_id: str) -> None:
        raise NotImplementedError  # LambdaProvider.esm_changed
