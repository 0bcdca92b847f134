"""``snapshot_restore_py``: SnapStart's runtime hooks, as AWS's Python runtimes provide them.

This module runs *inside* execution environments (standard library only, like python_runtime.py,
which imports it, so it is in ``sys.modules`` of every Python environment and the fork server):
a handler writes ``from snapshot_restore_py import register_before_snapshot, register_after_restore``
as it would on Lambda, with no package of its own. Both work as decorators or as calls
``register_before_snapshot(func, *args, **kwargs)``; they return ``func``.

The runtime runs the hooks (fork_server.py): before-snapshot hooks in the SnapStart template right
after the function's init, in the reverse order of registration; after-restore hooks in each
environment forked from the template, before its first invoke, in the order of registration, as
Lambda's documentation orders them. Environments that are not restored from a snapshot ($LATEST,
on-demand and provisioned ones) run neither, as on Lambda. Our own code, written for awsemu.
"""

from __future__ import annotations

from typing import Any, Callable

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

_before_snapshot: list[Hook] = []
_after_restore: list[Hook] = []


def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Run ``func(*args, **kwargs)`` before the snapshot is taken (after init, once per version)."""
    _before_snapshot.append((func, args, kwargs))
    return func


def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Run ``func(*args, **kwargs)`` in each environment restored from the snapshot."""
    _after_restore.append((func, args, kwargs))
    return func


def get_before_snapshot() -> list[Hook]:
    return list(_before_snapshot)


def get_after_restore() -> list[Hook]:
    return list(_after_restore)


def run_before_snapshot() -> None:
    """The runtime's side: the before-snapshot hooks, last registered first (an exception propagates)."""
    for func, args, kwargs in reversed(_before_snapshot):
        func(*args, **kwargs)


def run_after_restore() -> None:
    """The runtime's side: the after-restore hooks, in the order of registration."""
    for func, args, kwargs in _after_restore:
        func(*args, **kwargs)
