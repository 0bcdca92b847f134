"""Per-function settings Lambda stores and awsemu only keeps: recursive loop detection
(Get/PutFunctionRecursionConfig), runtime management (Get/PutRuntimeManagementConfig) and the scaling
of Lambda Managed Instances (Get/PutFunctionScalingConfig); mixed into LambdaProvider.

All live in the function's meta record, ``settings``: ``"recursion"`` (Allow | Terminate, Lambda's
default Terminate), ``"runtime"`` and ``"scaling"`` per version (``"0"`` for $LATEST, as the version
records number it). What they would steer does not exist here, so nothing reads them:

- recursion: awsemu does not trace invocation chains, so it never stops a loop (Terminate is
  reported, not enforced);
- runtime management: a function runs on the local interpreter or node that matches its runtime
  (interpreters.py), there are no runtime versions to pin; a Manual RuntimeVersionArn is stored and
  answered back. GetFunction and GetFunctionConfiguration show ``RuntimeVersionConfig`` as Lambda
  does (``_runtime_version_config``): the pinned ARN in Manual mode, else the runtime's one version
  here, ``arn:aws:lambda:<region>::runtime:<64 hex>`` (a digest of the runtime's name, so it is the
  same for every function of that runtime and never changes);
- scaling: Lambda applies it to functions on a capacity provider (Managed Instances), which awsemu
  does not have; the configuration is validated, stored for any published version and answered as
  applied.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_.checks import Fn
from awsemu.services.lambda_.errors import InvalidParameterValueException, function_not_found, validation
from awsemu.services.lambda_.functions import LATEST, FunctionMeta, FunctionStore, VersionConfig
from awsemu.services.lambda_.provider_parts import ProviderParts

RECURSION_VALUES = ("Allow", "Terminate")
UPDATE_RUNTIME_ON = ("Auto", "Manual", "FunctionUpdate")
RUNTIME_VERSION_ARN = re.compile(
    r"^((arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}::runtime:.+)|"
    r"(arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:runtime/"
    r"[A-Za-z0-9_.-]{1,128}/version/[A-Za-z0-9_.-]{1,128}))$"
)
SCALING_QUALIFIER = re.compile(r"^(\$LATEST\.PUBLISHED|[0-9]+)$")
SCALING_MAX = 15000


class FunctionSettingsOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock`` and the helpers of ProviderParts."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock

    def _save_setting(self, fn: Fn, topic: str, value: Any, version: str | None = None) -> None:
        """Write one setting into the function's meta record (per version when ``version`` is given)."""
        meta = self.store.require_meta(*fn)
        if version is None:
            meta.settings[topic] = value
        else:
            meta.settings.setdefault(topic, {})[version] = value
        self.db.put(fx.meta_key(*fn), meta.to_bytes())
        self._invalidate(fn)

    # -- recursive loop detection ------------------------------------------------------------
    def get_function_recursion_config(self, ctx: CallContext, FunctionName: str) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        return {"RecursiveLoop": self.store.require_meta(*fn).settings.get("recursion", "Terminate")}

    def put_function_recursion_config(self, ctx: CallContext, FunctionName: str, RecursiveLoop: str) -> dict[str, Any]:
        if RecursiveLoop not in RECURSION_VALUES:
            raise validation(RecursiveLoop, "recursiveLoop", "Member must satisfy enum value set: [Allow, Terminate]")
        fn = self._unqualified(ctx, FunctionName)
        with self._lock:
            self._save_setting(fn, "recursion", RecursiveLoop)
        return {"RecursiveLoop": RecursiveLoop}

    # -- runtime management ------------------------------------------------------------------
    def _runtime_target(self, ctx: CallContext, function_name: str, qualifier: str | None) -> tuple[Fn, str]:
        """(function, version) of a runtime management call: $LATEST (the default), a published
        version, or an alias (meaning the version it points at)."""
        fn, qualifier = self._target(ctx, function_name, qualifier)
        config = self.store.resolve(*fn, qualifier)
        return fn, config.version

    def _runtime_output(self, fn: Fn, version: str, config: dict[str, Any]) -> dict[str, Any]:
        out = {"UpdateRuntimeOn": config.get("UpdateRuntimeOn", "Auto"),
               "FunctionArn": self._arn(fn, None if version == LATEST else version)}
        if config.get("RuntimeVersionArn"):
            out["RuntimeVersionArn"] = config["RuntimeVersionArn"]
        return out

    @staticmethod
    def _runtime_version_config(meta: FunctionMeta, config: VersionConfig) -> dict[str, str]:
        """FunctionConfiguration's RuntimeVersionConfig of ``config`` (a version of ``meta``'s function)."""
        pinned = meta.settings.get("runtime", {}).get(config.version, {}).get("RuntimeVersionArn")
        digest = hashlib.sha256(f"awsemu-runtime:{config.runtime}".encode()).hexdigest()
        return {"RuntimeVersionArn": pinned or f"arn:aws:lambda:{config.region}::runtime:{digest}"}

    def get_runtime_management_config(self, ctx: CallContext, FunctionName: str,
                                      Qualifier: str | None = None) -> dict[str, Any]:
        fn, version = self._runtime_target(ctx, FunctionName, Qualifier)
        stored = self.store.require_meta(*fn).settings.get("runtime", {}).get(version, {})
        return self._runtime_output(fn, version, stored)

    def put_runtime_management_config(self, ctx: CallContext, FunctionName: str, UpdateRuntimeOn: str,
                                      Qualifier: str | None = None,
                                      RuntimeVersionArn: str | None = None) -> dict[str, Any]:
        if UpdateRuntimeOn not in UPDATE_RUNTIME_ON:
            raise validation(UpdateRuntimeOn, "updateRuntimeOn",
                             "Member must satisfy enum value set: [Auto, Manual, FunctionUpdate]")
        if RuntimeVersionArn is not None and (not RUNTIME_VERSION_ARN.match(RuntimeVersionArn)
                                              or not 26 <= len(RuntimeVersionArn) <= 2048):
            raise validation(RuntimeVersionArn, "runtimeVersionArn", "Member must satisfy regular expression pattern: "
                             r"^arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}::runtime:.+$")
        if UpdateRuntimeOn == "Manual" and not RuntimeVersionArn:
            raise InvalidParameterValueException("RuntimeVersionArn must be set when UpdateRuntimeOn is Manual.")
        if UpdateRuntimeOn != "Manual" and RuntimeVersionArn:
            raise InvalidParameterValueException(
                f"RuntimeVersionArn cannot be set when UpdateRuntimeOn is {UpdateRuntimeOn}; it is only valid "
                "with Manual."
            )
        with self._lock:
            fn, version = self._runtime_target(ctx, FunctionName, Qualifier)
            config = {"UpdateRuntimeOn": UpdateRuntimeOn}
            if RuntimeVersionArn:
                config["RuntimeVersionArn"] = RuntimeVersionArn
            self._save_setting(fn, "runtime", config, version)
        return self._runtime_output(fn, version, config)

    # -- scaling (Lambda Managed Instances) --------------------------------------------------
    def _scaling_target(self, ctx: CallContext, function_name: str, qualifier: str) -> tuple[Fn, str]:
        """(function, published version) of a scaling call: a number, or $LATEST.PUBLISHED (the newest)."""
        if not SCALING_QUALIFIER.match(qualifier or ""):
            raise validation(qualifier, "qualifier", r"Member must satisfy regular expression pattern: "
                             r"(\$LATEST\.PUBLISHED|[0-9]+)")
        fn = self._unqualified(ctx, function_name)
        meta = self.store.require_meta(*fn)
        version = str(meta.last_version) if qualifier == "$LATEST.PUBLISHED" else qualifier
        if version == "0" or self.store.version(*fn, int(version)) is None:
            raise function_not_found(self._arn(fn, qualifier))
        return fn, version

    def get_function_scaling_config(self, ctx: CallContext, FunctionName: str, Qualifier: str) -> dict[str, Any]:
        fn, version = self._scaling_target(ctx, FunctionName, Qualifier)
        out: dict[str, Any] = {"FunctionArn": self._arn(fn, version)}
        stored = self.store.require_meta(*fn).settings.get("scaling", {}).get(version)
        if stored is not None:
            out["AppliedFunctionScalingConfig"] = dict(stored)
            out["RequestedFunctionScalingConfig"] = dict(stored)
        return out

    def put_function_scaling_config(self, ctx: CallContext, FunctionName: str, Qualifier: str,
                                    FunctionScalingConfig: dict[str, Any] | None = None) -> dict[str, Any]:
        config = {k: v for k, v in (FunctionScalingConfig or {}).items()
                  if k in ("MinExecutionEnvironments", "MaxExecutionEnvironments") and v is not None}
        for name, value in config.items():
            member = "functionScalingConfig." + name[0].lower() + name[1:]
            if value < 0:
                raise validation(value, member, "Member must have value greater than or equal to 0")
            if value > SCALING_MAX:
                raise validation(value, member, f"Member must have value less than or equal to {SCALING_MAX}")
        low, high = config.get("MinExecutionEnvironments"), config.get("MaxExecutionEnvironments")
        if low is not None and high is not None and low > high:
            raise InvalidParameterValueException(
                "MinExecutionEnvironments must be less than or equal to MaxExecutionEnvironments."
            )
        with self._lock:
            fn, version = self._scaling_target(ctx, FunctionName, Qualifier)
            self._save_setting(fn, "scaling", config, version)
        return {"FunctionState": "Active"}
