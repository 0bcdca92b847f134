"""What the operation mixins of the Lambda provider use from it, declared once.

The provider (``provider.py``) composes topic mixins (versions, invoke, aliases, account, layers,
policies, URLs, event-invoke config, event source mappings, response streams); they call helpers
that :class:`LambdaProvider` (or, for ``_lookup``, the invoke mixin) implements. They are declared
here as annotations only, so each mixin reads and type-checks on its own while the attribute lookup
still finds the one real implementation (an annotation creates no attribute to shadow it).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Awaitable, Callable

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

    # implemented by LambdaProvider (provider.py)
    _target: Callable[..., tuple[Fn, str | None]]  # (ctx, function_name, qualifier=None, member=...)
    _unqualified: Callable[[CallContext, str], Fn]
    _invalidate: Callable[[Fn], None]
    _arn: Callable[..., str]  # (fn, qualifier=None)
    _latest: Callable[[Fn], VersionConfig]
    _changed: Callable[[Fn], None]
    _ref_changes: Callable[[VersionConfig | None, VersionConfig | None], list[tuple[bytes, bytes | None]]]
    _snapshot_later: Callable[[CallContext, dict[str, Any]], None]
    _fetch_package: Callable[[CallContext, dict[str, Any]], Awaitable[Package]]
    esm_changed: Callable[[str], None]
    # implemented by InvokeOperations (invoke_ops.py)
    _lookup: Callable[[Fn, str | None], Awaitable[Any]]
