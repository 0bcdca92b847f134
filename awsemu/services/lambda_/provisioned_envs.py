"""Provisioned concurrency's execution environments: started ahead, kept warm, freed on delete.

provisioned_ops.py keeps the configurations (per version or alias); the provider turns them into
the *wanted* state of each function (:meth:`ProvisionedEnvironments.set_function`): for every
version key (invoke.env_key) the number of environments to keep initialized, and the
configuration and endpoint to start them with. This object, on the event loop, makes the pool
match it:

- it starts the missing environments through the pool (a fork from the interpreter's fork server,
  the same path as a cold start) with ``AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency``,
  waits for their init, and puts them in the pool's idle stack of their version, marked
  ``provisioned`` (the reaper leaves those alone). Invocations take them like any warm
  environment: the first invoke of a provisioned environment runs no init;
- once a second (and at every change of the wanted state) it counts the live ones and starts
  replacements for those that died (a timeout kills its environment) or were retired (a change of
  the function retires its environments; pool.retire);
- a configuration deleted (or lowered) frees the environments beyond the wanted number: idle ones
  are killed now, busy ones lose the mark and are reaped like on-demand ones after their invoke.

At server start the provider sets the wanted state of every function from the stored
configurations, so a restarted server warms them again. At most ``cap`` environments per version
are started (``AWSEMU_LAMBDA_PROVISIONED_MAX``, default 10): configurations above it are accepted
and counted as requested, and invocations beyond the warm ones cold-start as on-demand ones would.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from awsemu.services.lambda_.forking import EnvironmentFailed, EnvSpec
from awsemu.services.lambda_.pool import Environment, Pool

log = logging.getLogger("awsemu.lambda")

CHECK_PERIOD_S = 1.0
DEFAULT_CAP = 10
INITIALIZATION_TYPE = "provisioned-concurrency"


@dataclass
class Wanted:
    """How many environments of one version to keep initialized, and how to start one."""

    count: int
    config: Any  # functions.VersionConfig
    endpoint: str


SpecFor = Callable[[Any, str], Awaitable["EnvSpec | Any"]]  # (config, endpoint) -> EnvSpec or an error result


class ProvisionedEnvironments:
    """The wanted provisioned environments per version key, and the work that keeps the pool there."""

    def __init__(self, pool: Pool, spec_for: SpecFor, cap: int | None = None) -> None:
        self.pool = pool
        self.spec_for = spec_for
        self.cap = cap if cap is not None else DEFAULT_CAP
        self.wanted: dict[Hashable, Wanted] = {}
        self._filling: dict[Hashable, asyncio.Task[None]] = {}
        self._checker: asyncio.Task[None] | None = None
        self._failed: dict[Hashable, str] = {}  # keys whose init failed (why): not retried until the next change
        # (initialized environments, environments to keep, why they failed) per key: replaced whole on
        # the event loop, read by the control plane's threads (GetProvisionedConcurrencyConfig's status)
        self.status: dict[Hashable, tuple[int, int, str]] = {}

    # -- the wanted state -----------------------------------------------------------------------
    def set_function(self, fn: tuple[str, str, str], wanted: dict[Hashable, Wanted]) -> None:
        """Replace the wanted state of function ``fn`` (keys are version keys, whose first three
        items are ``fn``)."""
        for key in [k for k in self.wanted if k[:3] == fn and k not in wanted]:  # type: ignore[index]
            del self.wanted[key]
            self._failed.pop(key, None)
            self._trim(key, 0)
        for key, want in wanted.items():
            previous = self.wanted.get(key)
            self.wanted[key] = want
            self._failed.pop(key, None)
            if previous is not None and want.count < previous.count:
                self._trim(key, self._target(want))
        self._ensure_checker()
        self.check()

    def _target(self, want: Wanted) -> int:
        return min(want.count, self.cap)

    # -- the pool's side --------------------------------------------------------------------------
    def live(self, key: Hashable) -> list[Environment]:
        """The provisioned environments of ``key`` that can still serve (idle or busy)."""
        return [env for env in self.pool.all
                if env.key == key and env.provisioned and not env.dead and not env.retired]

    def _publish_status(self) -> None:
        self.status = {key: (len(self.live(key)), self._target(want), self._failed.get(key, ""))
                       for key, want in self.wanted.items()}

    def _trim(self, key: Hashable, keep: int) -> None:
        """Free the provisioned environments of ``key`` beyond ``keep``: the idle ones first."""
        idle = set(self.pool.idle.get(key, []))
        extra = sorted(self.live(key), key=lambda env: env not in idle)[:max(0, len(self.live(key)) - keep)]
        for env in extra:
            env.provisioned = False
            if env in idle:
                self.pool.discard(env)

    def check(self) -> None:
        """Start filling every key that has fewer live environments than it wants (and free the
        ones beyond it: a fill that finished after its configuration was lowered)."""
        self._publish_status()
        for key, want in list(self.wanted.items()):
            if key in self._filling or key in self._failed:
                continue
            live = len(self.live(key))
            if live > self._target(want):
                self._trim(key, self._target(want))
            elif live < self._target(want):
                task = asyncio.ensure_future(self._fill(key))
                self._filling[key] = task
                task.add_done_callback(lambda _t, k=key: self._filling.pop(k, None))

    async def _fill(self, key: Hashable) -> None:
        for _ in range(2 * self.cap):  # environments that die at once must not make this spin
            want = self.wanted.get(key)
            if want is None or len(self.live(key)) >= self._target(want):
                return
            spec = await self.spec_for(want.config, want.endpoint)
            if not isinstance(spec, EnvSpec):
                log.warning("provisioned concurrency of %s: its runtime cannot start", key)
                self._failed[key] = "the function's runtime cannot start"
                self._publish_status()
                return
            spec.env["AWS_LAMBDA_INITIALIZATION_TYPE"] = INITIALIZATION_TYPE
            try:
                env = await self.pool.start_environment(key, spec)
            except EnvironmentFailed as failure:
                log.warning("provisioned concurrency of %s: init failed (%s: %s)", key, failure.error_type,
                            failure.message)
                self._failed[key] = f"{_error_type(failure)}: {failure.message}"
                self._publish_status()
                return
            if key not in self.wanted:
                self.pool.discard(env)  # its configuration was deleted meanwhile
                return
            env.provisioned = True
            self.pool.release(env)
            self._publish_status()

    def _ensure_checker(self) -> None:
        if self._checker is None or self._checker.done():
            self._checker = asyncio.ensure_future(self._check_loop())

    async def _check_loop(self) -> None:
        while self.wanted:
            await asyncio.sleep(CHECK_PERIOD_S)
            self.check()

    def close(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
        for task in list(self._filling.values()):
            task.cancel()
        self.wanted.clear()
        self.status = {}


def _error_type(failure: EnvironmentFailed) -> str:
    """The error type the runtime's document names (the init's exception), else the failure's own."""
    try:
        doc = json.loads(failure.body or b"null")
    except ValueError:
        doc = None
    return str(doc.get("errorType") or failure.error_type) if isinstance(doc, dict) else failure.error_type
