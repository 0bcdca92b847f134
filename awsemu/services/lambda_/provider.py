"""The Lambda provider: one method per Lambda operation.

Control plane (functions.py records on lsm, code.py packages in the blob store) and data plane
(invoke.py on pool.py's execution environments). Methods that only read or write records are plain
functions (the gateway runs them in a worker thread); CreateFunction and UpdateFunctionCode are
coroutines because the blob store's ``write`` is one; Invoke is a coroutine so that a running
invocation holds no thread. Records are changed under one lock (control-plane calls are rare, and a
read-modify-write of a function must not interleave with another); every change of a function
drops its entries from the invoke path's read cache and retires its now stale environments.

Settings (environment variables of the server): ``AWSEMU_LAMBDA_IDLE_SECONDS`` (idle environments
live this long, default 300), ``AWSEMU_LAMBDA_FORK_SERVER`` (``0``: start each environment as a new
interpreter instead of forking it), ``AWSEMU_LAMBDA_RETRY_SECONDS`` (first async retry delay),
``AWSEMU_LAMBDA_SANDBOX`` and ``AWSEMU_LAMBDA_SANDBOX_SHARE`` (isolation: sandbox.py).

Functions (create, get, list, update, delete) and the helpers every topic shares are here; the
operations of other topics are mixins: versions (version_ops.py), Invoke and its queued Event
invocations (invoke_ops.py), aliases (alias_ops.py), account settings, tags and concurrency
(account_ops.py), layers (layer_ops.py), resource policies (policy.py), asynchronous invocation
settings (event_invoke_config.py), function URL configurations and the HTTP requests on the URLs
(function_url_ops.py, function_url_http.py), event source mappings (esm_ops.py; their SQS and
DynamoDB Streams pollers in pollers.py), InvokeWithResponseStream (stream_ops.py, framing in
event_stream.py), layer version permissions (layer_policy_ops.py), Get/Put/DeleteResourcePolicy
(resource_policy_ops.py), provisioned concurrency (provisioned_ops.py), recursion, runtime
management and scaling configs (function_settings_ops.py) and code signing configs
(code_signing_ops.py).

Sibling providers: the app calls :meth:`LambdaProvider.attach` with every provider once all are
started; the pollers use the SQS and DynamoDB Streams providers' public methods (no HTTP), and the
pollers of enabled mappings start then (so they restart after a server restart).

SnapStart (python): a published version's init runs once, in a template process forked at
PublishVersion (pool.Template); its cold starts fork from it. Not served in this slice: container images,
Kinesis/Kafka/MQ event sources, SNS/EventBridge/Lambda targets of async results (SQS dead-letter
queues and destinations are fed).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

from awsemu.services.base import CallContext, Provider
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_ import layers
from awsemu.services.lambda_.account_ops import AccountOperations
from awsemu.services.lambda_.alias_ops import AliasOperations
from awsemu.services.lambda_.checks import (
    LIST_PAGE_MAX,
    Fn,
    check_limits,
    check_role,
    check_runtime,
    check_snap_start,
    marker,
    page_size,
    revision_check,
    unmarker,
    user_environment,
)
from awsemu.services.lambda_.code import CodeStore, Package, check_zip, fetch_from_s3
from awsemu.services.lambda_.code_signing_ops import CodeSigningOperations
from awsemu.services.lambda_.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    function_not_found,
    validation,
)
from awsemu.services.lambda_.esm_ops import EventSourceMappingOperations
from awsemu.services.lambda_.event_invoke_config import EventInvokeConfigOperations
from awsemu.services.lambda_.function_settings_ops import FunctionSettingsOperations
from awsemu.services.lambda_.function_url_ops import FunctionUrlOperations
from awsemu.services.lambda_.functions import (
    LATEST,
    AliasRecord,
    FunctionMeta,
    FunctionStore,
    VersionConfig,
    function_arn,
    new_revision,
    now_lambda,
)
from awsemu.services.lambda_.hot_reload import fingerprint, local_code_dir
from awsemu.services.lambda_.invoke import Caller, Invoker, root_access_key
from awsemu.services.lambda_.invoke_ops import InvokeOperations
from awsemu.services.lambda_.layer_ops import LayerOperations
from awsemu.services.lambda_.layer_policy_ops import LayerPolicyOperations
from awsemu.services.lambda_.policy import PolicyOperations
from awsemu.services.lambda_.pollers import PollerSet
from awsemu.services.lambda_.pool import Pool
from awsemu.services.lambda_.provisioned_ops import ProvisionedConcurrencyOperations
from awsemu.services.lambda_.resource_policy_ops import ResourcePolicyOperations
from awsemu.services.lambda_.stream_ops import ResponseStreamOperations
from awsemu.services.lambda_.version_ops import VersionOperations


class LambdaProvider(VersionOperations, InvokeOperations, AliasOperations, AccountOperations, LayerOperations,
                     LayerPolicyOperations, PolicyOperations, ResourcePolicyOperations, EventInvokeConfigOperations,
                     FunctionUrlOperations, EventSourceMappingOperations, ResponseStreamOperations,
                     ProvisionedConcurrencyOperations, FunctionSettingsOperations, CodeSigningOperations, Provider):
    service_name = "lambda"

    def __init__(self, storage: Any, config: Any) -> None:
        super().__init__(storage, config)
        self.db = storage.db
        self.store = FunctionStore(self.db)
        root = storage.data_dir / "lambda"
        self.code = CodeStore(storage.blobs, root / "code")
        self.layers = layers.LayerStore(self.db)
        self.opt_root = root / "opt"
        self.envs_dir = root / "envs"
        self.pool = Pool(
            self.envs_dir,
            idle_seconds=config.lambda_idle_seconds,
            use_fork_server=config.lambda_fork_server,
            sandbox_mode=config.lambda_sandbox,
            sandbox_share=config.lambda_sandbox_share,
        )
        self.invoker = Invoker(self.pool, self._prepare_code, self.db, retry_seconds=config.lambda_retry_seconds,
                               provisioned_max=config.lambda_provisioned_max)
        self._lock = threading.RLock()
        self._cache: dict[Fn, dict[str | None, tuple[FunctionMeta, AliasRecord | None, dict[str, VersionConfig]]]] = {}
        self._generation: dict[Fn, int] = {}
        self._hot_prints: dict[Fn, dict[str, str]] = {}  # hot reload: directory fingerprints (invoke_ops.py)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.siblings: dict[str, Provider] = {}
        self.pollers = PollerSet(self.esm_record, self.esm_set_state, self._invoke_for_source, self.db)
        self._url_index: dict[str, tuple[Fn, str]] = {}

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        shutil.rmtree(self.envs_dir, ignore_errors=True)  # leftovers of a previous process
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None
        if self.loop is not None:
            self.pool.detect_isolation()  # logs which isolation is in effect
            if self.store.has_functions():
                self.pool.prewarm()
                self._sync_all_provisioned()  # provisioned concurrency is warm again after a restart
            for key, record in self.invoker.queued():
                self.invoker.schedule(key, record, self._run_event, self._report_event)

    def attach(self, providers: dict[str, Provider]) -> None:
        """Called by the app once every provider is started: start the enabled mappings' pollers."""
        self.siblings = providers
        self.pollers.siblings = providers
        if self.loop is not None:
            for record in self.esm_records():
                self.pollers.sync(record["UUID"])

    def esm_changed(self, mapping_id: str) -> None:
        self._on_loop(self.pollers.sync, mapping_id)

    def stop(self) -> None:
        self.pollers.stop_all()
        self.invoker.cancel_events()
        self.invoker.provisioned.close()
        self.pool.close_now()

    def reset(self) -> None:
        self._on_loop(self.pollers.stop_all)
        self.invoker.cancel_events()
        with self._lock:
            for k in list(self._generation):
                self._invalidate(k)
            self._on_loop(self.invoker.provisioned.close)
            self._on_loop(self.pool.retire, lambda key: True)
            ops: list[tuple[bytes, bytes | None]] = []
            versions, layer_versions = fx.encode("lambda", "v"), fx.encode("lambda", "l")
            for key, raw in self.store.everything():
                ops.append((key, None))
                if key.startswith(versions):
                    ops += self._ref_changes(VersionConfig.from_bytes(raw), None)
                elif key.startswith(layer_versions):
                    layer = layers.LayerVersion.from_bytes(raw)
                    ops += self.code.unref_ops(layer.blob_id, layers.owner(layer))
            for i in range(0, len(ops), 500):
                self.db.write_batch(ops[i:i + 500])
            self._cache.clear()

    def state(self) -> str:
        return "running"

    # -- helpers -------------------------------------------------------------------------------------
    def _on_loop(self, callback: Any, *args: Any) -> None:
        """Run ``callback`` on the event loop (pool state lives there) from any thread."""
        loop = self.loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            callback(*args)
        else:
            loop.call_soon_threadsafe(callback, *args)

    def _invalidate(self, fn: Fn) -> None:
        self._generation[fn] = self._generation.get(fn, 0) + 1
        self._cache.pop(fn, None)
        self._sync_provisioned(fn)  # versions, aliases or configurations may have changed

    def _changed(self, fn: Fn) -> None:
        """A function's records changed: drop cached reads, retire environments of old revisions."""
        self._invalidate(fn)
        self._on_loop(self.pool.retire, lambda key: key[:3] == fn)
        self._sync_provisioned(fn)  # retired provisioned environments are started again

    def _target(self, ctx: CallContext, function_name: str, qualifier: str | None = None,
                member: str = "functionName") -> tuple[Fn, str | None]:
        parsed = fx.parse_function_name(function_name, member)
        qualifier = fx.check_qualifier_consistent(parsed, qualifier)
        return (parsed.account or ctx.account_id, parsed.region or ctx.region, parsed.name), qualifier

    def _unqualified(self, ctx: CallContext, function_name: str) -> Fn:
        fn, qualifier = self._target(ctx, function_name)
        if qualifier is not None:
            raise InvalidParameterValueException("Unsupported parameter: qualifier is not allowed for this operation.")
        return fn

    @staticmethod
    def _arn(fn: Fn, qualifier: str | None = None) -> str:
        account, region, name = fn
        return function_arn(region, account, name, qualifier)

    def _latest(self, fn: Fn) -> VersionConfig:
        config = self.store.version(*fn, 0)
        if config is None:
            raise function_not_found(self._arn(fn))
        return config

    def _ref_changes(self, old: VersionConfig | None, new: VersionConfig | None) -> list[tuple[bytes, bytes | None]]:
        """Blob-reference operations that move the holds of ``old`` to those of ``new``."""
        before = old.blob_refs() if old is not None else set()
        after = new.blob_refs() if new is not None else set()
        ops: list[tuple[bytes, bytes | None]] = []
        for blob_id, owner in sorted(before - after):
            ops += self.code.unref_ops(blob_id, owner)
        for blob_id, owner in sorted(after - before):
            ops += self.code.ref_ops(blob_id, owner)
        return ops

    async def _prepare_code(self, config: VersionConfig) -> tuple[str, Path | None]:
        """The unpacked package and merged layers of a version (made on first use after a restart)."""
        if config.code_dir:
            path = Path(config.code_dir)
        else:
            path = self.code.path_for(config.code_sha256)
        if not config.code_dir and not path.is_dir():
            path = await asyncio.to_thread(self.code.unpacked, config.code_sha256, config.blob_id)
        opt = None
        if config.layers:
            opt = await asyncio.to_thread(layers.opt_dir, self.opt_root, config.layers, self.code.read)
        return str(path), opt

    def _layer_refs(self, arns: list[str] | None) -> list[dict[str, Any]]:
        return [{"Arn": layer.arn, "CodeSize": layer.code_size, "CodeSha256": layer.code_sha256,
                 "BlobId": layer.blob_id} for layer in self.layers.for_function(list(arns or []))]

    # -- functions -----------------------------------------------------------------------------------
    async def create_function(self, ctx: CallContext, FunctionName: str, Role: str, Code: dict[str, Any],
                              Runtime: str | None = None, Handler: str | None = None, Description: str = "",
                              Timeout: int | None = None, MemorySize: int | None = None, Publish: bool = False,
                              PackageType: str | None = None, Environment: dict[str, Any] | None = None,
                              Tags: dict[str, str] | None = None, Architectures: list[str] | None = None,
                              EphemeralStorage: dict[str, Any] | None = None,
                              TracingConfig: dict[str, Any] | None = None,
                              DeadLetterConfig: dict[str, Any] | None = None,
                              SnapStart: dict[str, Any] | None = None, **unused: Any) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        check_role(Role)
        if PackageType == "Image":
            raise InvalidParameterValueException("awsemu does not run container image functions yet (PackageType Image).")
        if not Runtime or not Handler:
            raise InvalidParameterValueException(
                "Runtime and Handler are mandatory parameters for functions created with deployment packages."
            )
        check_runtime(Runtime)
        snap_start = check_snap_start(SnapStart, Runtime)
        check_limits(Timeout, MemorySize)
        variables = user_environment(Environment)
        layer_refs = await asyncio.to_thread(self._layer_refs, unused.get("Layers"))
        signing = unused.get("CodeSigningConfigArn")
        if signing:
            await asyncio.to_thread(self._require_csc, signing)  # code_signing_ops.py
        code_dir = local_code_dir(Code)
        if code_dir is not None:
            code_sha256, code_size, blob_id = await asyncio.to_thread(fingerprint, code_dir), 0, ""
        else:
            package = await self._fetch_package(ctx, Code)
            blob_id = await self.code.store(package)
            await asyncio.to_thread(self.code.unpacked, package.sha256_b64, blob_id, package.data)
            code_sha256, code_size = package.sha256_b64, package.size
        config = VersionConfig(
            name=fn[2], account=fn[0], region=fn[1], version=LATEST, runtime=Runtime, role=Role, handler=Handler,
            code_sha256=code_sha256, code_size=code_size, blob_id=blob_id, description=Description or "",
            timeout=Timeout or 3, memory_size=MemorySize or 128, environment=variables,
            architectures=list(Architectures or ["x86_64"]),
            ephemeral_storage=int((EphemeralStorage or {}).get("Size", 512)),
            tracing_mode=(TracingConfig or {}).get("Mode", "PassThrough"),
            last_modified=now_lambda(), revision_id=new_revision(),
            dead_letter_target=(DeadLetterConfig or {}).get("TargetArn"), layers=layer_refs, snap_start=snap_start,
            code_dir=code_dir or "",
        )
        meta = FunctionMeta(name=fn[2], tags=dict(Tags or {}))
        if signing:
            meta.settings["code_signing"] = signing
        out = await asyncio.to_thread(self._create_records, fn, config, meta, Publish)
        self.pool.prewarm(Runtime)
        self._snapshot_later(ctx, out)
        return out

    def _snapshot_later(self, ctx: CallContext, published: dict[str, Any]) -> None:
        """SnapStart: start the init of a just-published version (in the background, as Lambda's
        optimization after PublishVersion); its first cold start waits for it if it is still running."""
        if published.get("SnapStart", {}).get("OptimizationStatus") != "On":
            return
        fn = (ctx.account_id, ctx.region, published["FunctionName"])
        config = self.store.version(*fn, int(published["Version"]))
        if config is None:
            return

        def start() -> None:
            task = asyncio.ensure_future(self.invoker.snapshot(config, Caller(ctx.endpoint)))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # failures are logged by the pool

        self._on_loop(start)

    def _package(self, code: dict[str, Any]) -> Package:
        if code.get("ZipFile") is None:
            if code.get("ImageUri"):
                raise InvalidParameterValueException("awsemu does not run container image functions yet.")
            raise InvalidParameterValueException("Please provide a source for function code.")
        return check_zip(code["ZipFile"])

    async def _fetch_package(self, ctx: CallContext, code: dict[str, Any]) -> Package:
        """The package of a Code (or UpdateFunctionCode) parameter: inline zip, or an S3 object."""
        if code.get("ZipFile") is None and code.get("S3Bucket") and code.get("S3Key"):
            data = await asyncio.to_thread(fetch_from_s3, ctx.endpoint, ctx.region, root_access_key(ctx.account_id),
                                           code["S3Bucket"], code["S3Key"], code.get("S3ObjectVersion"))
            return check_zip(data)
        return self._package(code)

    def _create_records(self, fn: Fn, config: VersionConfig, meta: FunctionMeta, publish: bool) -> dict[str, Any]:
        with self._lock:
            if self.store.meta(*fn) is not None:
                raise ResourceConflictException(f"Function already exist: {fn[2]}")
            ops: list[tuple[bytes, bytes | None]] = [(fx.version_key(*fn, 0), config.to_bytes())]
            ops += self._ref_changes(None, config)
            result = config
            if publish:
                result = self._new_version(fn, config, meta, None, ops)
            ops.append((fx.meta_key(*fn), meta.to_bytes()))
            self.db.write_batch(ops)
            self._changed(fn)
        return result.configuration()


    def get_function(self, ctx: CallContext, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        fn, qualifier = self._target(ctx, FunctionName, Qualifier)
        config = self.store.resolve(*fn, qualifier)
        meta = self.store.require_meta(*fn)
        out: dict[str, Any] = {
            "Configuration": {**config.configuration(),
                              "RuntimeVersionConfig": self._runtime_version_config(meta, config)},
            "Code": {"RepositoryType": "S3", "Location": self._code_location(ctx, config)},
            "Tags": dict(meta.tags),
        }
        if meta.reserved_concurrency is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": meta.reserved_concurrency}
        return out

    @staticmethod
    def _code_location(ctx: CallContext, config: VersionConfig) -> str:
        # The shape of Lambda's presigned snapshot URL (it expires after 10 minutes in AWS).
        region = config.region
        return (
            f"https://awslambda-{region}-tasks.s3.{region}.amazonaws.com/snapshots/{config.account}/"
            f"{config.name}-{uuid.uuid4()}?versionId={config.blob_id}&X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Date={config.last_modified[:19].replace('-', '').replace(':', '')}Z&X-Amz-SignedHeaders=host"
            f"&X-Amz-Expires=600&X-Amz-Credential={ctx.access_key_id or 'test'}%2F{region}%2Fs3%2Faws4_request"
            f"&X-Amz-Signature={config.code_sha256.encode().hex()[:64]}"
        )

    def get_function_configuration(self, ctx: CallContext, FunctionName: str,
                                   Qualifier: str | None = None) -> dict[str, Any]:
        fn, qualifier = self._target(ctx, FunctionName, Qualifier)
        config = self.store.resolve(*fn, qualifier)
        return {**config.configuration(),
                "RuntimeVersionConfig": self._runtime_version_config(self.store.require_meta(*fn), config)}

    def list_functions(self, ctx: CallContext, Marker: str | None = None, MaxItems: int | None = None,
                       FunctionVersion: str | None = None, MasterRegion: str | None = None) -> dict[str, Any]:
        size = min(page_size(MaxItems), LIST_PAGE_MAX)
        if FunctionVersion not in (None, "ALL"):
            raise validation(FunctionVersion, "functionVersion", "Member must satisfy enum value set: [ALL]")
        after = unmarker(Marker)
        after_name, _, after_version = (after or "").partition("\x00")
        items: list[dict[str, Any]] = []
        next_marker = None
        names = self.store.function_names(ctx.account_id, ctx.region, after=None)
        for name in names:
            if after is not None and name < after_name:
                continue
            if FunctionVersion == "ALL":
                start = int(after_version) if after is not None and name == after_name else -1
                configs = list(self.store.versions(ctx.account_id, ctx.region, name, after=start))
            else:
                if after is not None and name == after_name:
                    continue
                latest = self.store.version(ctx.account_id, ctx.region, name, 0)
                configs = [latest] if latest is not None else []
            for config in configs:
                if len(items) == size:
                    last = items[-1]
                    next_marker = marker(f"{last['FunctionName']}\x00{0 if last['Version'] == LATEST else last['Version']}")
                    break
                items.append(config.configuration())
            if next_marker:
                break
        out: dict[str, Any] = {"Functions": items}
        if next_marker:
            out["NextMarker"] = next_marker
        return out

    def delete_function(self, ctx: CallContext, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        fn, qualifier = self._target(ctx, FunctionName, Qualifier)
        with self._lock:
            self.store.require_meta(*fn)
            ops: list[tuple[bytes, bytes | None]] = []
            if qualifier is None:
                for config in self.store.versions(*fn):
                    ops.append((fx.version_key(*fn, config.number), None))
                    ops += self._ref_changes(config, None)
                for alias in self.store.aliases(*fn):
                    ops.append((fx.alias_key(*fn, alias.name), None))
                ops.append((fx.meta_key(*fn), None))
            else:
                if qualifier == LATEST:
                    raise InvalidParameterValueException("$LATEST version cannot be deleted without deleting the function.")
                if not qualifier.isdigit():
                    raise InvalidParameterValueException("Deletion of aliases is not supported.")
                config = self.store.version(*fn, int(qualifier))
                if config is None:
                    raise function_not_found(self._arn(fn, qualifier))
                users = [a.name for a in self.store.aliases(*fn) if a.function_version == qualifier]
                if users:
                    raise ResourceConflictException(
                        f"Unable to delete version because the following aliases reference it: {users}"
                    )
                ops.append((fx.version_key(*fn, config.number), None))
                ops += self._ref_changes(config, None)
            self.db.write_batch(ops)
            self._changed(fn)
        return {"StatusCode": 204}

    async def update_function_code(self, ctx: CallContext, FunctionName: str, ZipFile: bytes | None = None,
                                   Publish: bool = False, DryRun: bool = False, RevisionId: str | None = None,
                                   S3Bucket: str | None = None, ImageUri: str | None = None,
                                   Architectures: list[str] | None = None, **unused: Any) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        code = {"ZipFile": ZipFile, "S3Bucket": S3Bucket, "S3Key": unused.get("S3Key"),
                "S3ObjectVersion": unused.get("S3ObjectVersion"), "ImageUri": ImageUri}
        code_dir = local_code_dir(code)
        if code_dir is not None:
            code_sha256, code_size = await asyncio.to_thread(fingerprint, code_dir), 0
        else:
            package = await self._fetch_package(ctx, code)
            code_sha256, code_size = package.sha256_b64, package.size
        latest = await asyncio.to_thread(self._latest, fn)
        revision_check(RevisionId, latest.revision_id)
        if DryRun:
            preview = VersionConfig(**{**latest.__dict__})
            preview.code_sha256, preview.code_size = code_sha256, code_size
            return preview.configuration()
        blob_id = ""
        if code_dir is None:
            blob_id = await self.code.store(package)
            await asyncio.to_thread(self.code.unpacked, package.sha256_b64, blob_id, package.data)

        def write() -> dict[str, Any]:
            with self._lock:
                current = self._latest(fn)
                revision_check(RevisionId, current.revision_id)
                meta = self.store.require_meta(*fn)
                old = VersionConfig(**{**current.__dict__})
                current.blob_id, current.code_sha256, current.code_size = blob_id, code_sha256, code_size
                current.code_dir = code_dir or ""
                if Architectures:
                    current.architectures = list(Architectures)
                current.revision_id, current.last_modified = new_revision(), now_lambda()
                ops = [(fx.version_key(*fn, 0), current.to_bytes()), *self._ref_changes(old, current)]
                result = current
                if Publish:
                    result = self._publish_into(fn, current, meta, None, ops)
                self.db.write_batch(ops)
                self._changed(fn)
                return result.configuration()

        out = await asyncio.to_thread(write)
        self._snapshot_later(ctx, out)
        return out

    def update_function_configuration(self, ctx: CallContext, FunctionName: str, Role: str | None = None,
                                      Handler: str | None = None, Description: str | None = None,
                                      Timeout: int | None = None, MemorySize: int | None = None,
                                      Environment: dict[str, Any] | None = None, Runtime: str | None = None,
                                      RevisionId: str | None = None, TracingConfig: dict[str, Any] | None = None,
                                      EphemeralStorage: dict[str, Any] | None = None,
                                      DeadLetterConfig: dict[str, Any] | None = None,
                                      SnapStart: dict[str, Any] | None = None,
                                      **unused: Any) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        if Role is not None:
            check_role(Role)
        if Runtime is not None:
            check_runtime(Runtime)
        check_limits(Timeout, MemorySize)
        variables = user_environment(Environment) if Environment is not None else None
        layer_refs = self._layer_refs(unused["Layers"]) if unused.get("Layers") is not None else None
        with self._lock:
            config = self._latest(fn)
            old = VersionConfig(**{**config.__dict__})
            revision_check(RevisionId, config.revision_id)
            for attr, value in (("role", Role), ("handler", Handler), ("description", Description),
                                ("timeout", Timeout), ("memory_size", MemorySize), ("runtime", Runtime),
                                ("environment", variables)):
                if value is not None:
                    setattr(config, attr, value)
            if TracingConfig and TracingConfig.get("Mode"):
                config.tracing_mode = TracingConfig["Mode"]
            if EphemeralStorage and EphemeralStorage.get("Size"):
                config.ephemeral_storage = int(EphemeralStorage["Size"])
            if DeadLetterConfig is not None:
                config.dead_letter_target = DeadLetterConfig.get("TargetArn") or None
            if layer_refs is not None:
                config.layers = layer_refs
            if SnapStart is not None:
                config.snap_start = check_snap_start(SnapStart, config.runtime)
            elif config.snap_start != "None":
                check_snap_start({"ApplyOn": config.snap_start}, config.runtime)
            config.revision_id, config.last_modified = new_revision(), now_lambda()
            self.db.write_batch([(fx.version_key(*fn, 0), config.to_bytes()), *self._ref_changes(old, config)])
            self._changed(fn)
        return config.configuration()
