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
interpreter instead of forking it), ``AWSEMU_LAMBDA_RETRY_SECONDS`` (first async retry delay).

Functions, versions and invoke are here; the operations of other topics are mixins: aliases
(alias_ops.py), account settings, tags and concurrency (account_ops.py), layers (layer_ops.py),
resource policies (policy.py), asynchronous invocation settings (event_invoke_config.py), function
URL configurations and the HTTP requests on the URLs (function_url_ops.py, function_url_http.py),
event source mappings (esm_ops.py; their SQS and DynamoDB Streams pollers in pollers.py),
InvokeWithResponseStream (stream_ops.py, framing in event_stream.py).

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
import base64
import random
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from awsemu.services.base import CallContext, Provider, ServiceError
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_ import delivery, layers
from awsemu.services.lambda_.checks import (
    Fn,
    check_invoke_input,
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
from awsemu.services.lambda_.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    function_not_found,
    throttled,
    validation,
)
from awsemu.services.lambda_.esm_ops import EventSourceMappingOperations
from awsemu.services.lambda_.event_invoke_config import EventInvokeConfigOperations, async_settings
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
from awsemu.services.lambda_.account_ops import AccountOperations
from awsemu.services.lambda_.alias_ops import AliasOperations
from awsemu.services.lambda_.function_url_ops import FunctionUrlOperations
from awsemu.services.lambda_.invoke import Caller, Invoker, InvokeResult, root_access_key
from awsemu.services.lambda_.layer_ops import LayerOperations
from awsemu.services.lambda_.policy import PolicyOperations
from awsemu.services.lambda_.pool import Pool
from awsemu.services.lambda_.pollers import PollerSet
from awsemu.services.lambda_.stream_ops import ResponseStreamOperations


LIST_PAGE_MAX = 50  # ListFunctions and ListVersionsByFunction never return more, whatever MaxItems says


class LambdaProvider(AliasOperations, AccountOperations, LayerOperations, PolicyOperations, EventInvokeConfigOperations,
                     FunctionUrlOperations, EventSourceMappingOperations, ResponseStreamOperations, Provider):
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
        )
        self.invoker = Invoker(self.pool, self._prepare_code, self.db, retry_seconds=config.lambda_retry_seconds)
        self._lock = threading.RLock()
        self._cache: dict[Fn, dict[str | None, tuple[FunctionMeta, AliasRecord | None, dict[str, VersionConfig]]]] = {}
        self._generation: dict[Fn, int] = {}
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
            if self.store.has_functions():
                self.pool.prewarm()
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

    async def _invoke_for_source(self, fn: Fn, qualifier: str | None, payload: bytes, endpoint: str) -> InvokeResult:
        """A synchronous invoke on behalf of an event source mapping."""
        meta, config = await self._lookup(fn, qualifier)
        return await self.invoker.invoke(config, meta.reserved_concurrency, payload, Caller(endpoint),
                                         invoked_arn=self._arn(fn, qualifier))

    def stop(self) -> None:
        self.pollers.stop_all()
        self.invoker.cancel_events()
        self.pool.close_now()

    def reset(self) -> None:
        self._on_loop(self.pollers.stop_all)
        self.invoker.cancel_events()
        with self._lock:
            for k in list(self._generation):
                self._invalidate(k)
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

    def _changed(self, fn: Fn) -> None:
        """A function's records changed: drop cached reads, retire environments of old revisions."""
        self._invalidate(fn)
        self._on_loop(self.pool.retire, lambda key: key[:3] == fn)

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
        path = self.code.path_for(config.code_sha256)
        if not path.is_dir():
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
        package = await self._fetch_package(ctx, Code)
        blob_id = await self.code.store(package)
        await asyncio.to_thread(self.code.unpacked, package.sha256_b64, blob_id, package.data)
        config = VersionConfig(
            name=fn[2], account=fn[0], region=fn[1], version=LATEST, runtime=Runtime, role=Role, handler=Handler,
            code_sha256=package.sha256_b64, code_size=package.size, blob_id=blob_id, description=Description or "",
            timeout=Timeout or 3, memory_size=MemorySize or 128, environment=variables,
            architectures=list(Architectures or ["x86_64"]),
            ephemeral_storage=int((EphemeralStorage or {}).get("Size", 512)),
            tracing_mode=(TracingConfig or {}).get("Mode", "PassThrough"),
            last_modified=now_lambda(), revision_id=new_revision(),
            dead_letter_target=(DeadLetterConfig or {}).get("TargetArn"), layers=layer_refs, snap_start=snap_start,
        )
        meta = FunctionMeta(name=fn[2], tags=dict(Tags or {}))
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

    def get_function(self, ctx: CallContext, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        fn, qualifier = self._target(ctx, FunctionName, Qualifier)
        config = self.store.resolve(*fn, qualifier)
        meta = self.store.require_meta(*fn)
        out: dict[str, Any] = {
            "Configuration": config.configuration(),
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
        return self.store.resolve(*fn, qualifier).configuration()

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
        package = await self._fetch_package(ctx, {
            "ZipFile": ZipFile, "S3Bucket": S3Bucket, "S3Key": unused.get("S3Key"),
            "S3ObjectVersion": unused.get("S3ObjectVersion"), "ImageUri": ImageUri,
        })
        latest = await asyncio.to_thread(self._latest, fn)
        revision_check(RevisionId, latest.revision_id)
        if DryRun:
            preview = VersionConfig(**{**latest.__dict__})
            preview.code_sha256, preview.code_size = package.sha256_b64, package.size
            return preview.configuration()
        blob_id = await self.code.store(package)
        await asyncio.to_thread(self.code.unpacked, package.sha256_b64, blob_id, package.data)

        def write() -> dict[str, Any]:
            with self._lock:
                current = self._latest(fn)
                revision_check(RevisionId, current.revision_id)
                meta = self.store.require_meta(*fn)
                old = VersionConfig(**{**current.__dict__})
                current.blob_id, current.code_sha256, current.code_size = blob_id, package.sha256_b64, package.size
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

    # -- versions ------------------------------------------------------------------------------------
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

    # -- invoke --------------------------------------------------------------------------------------
    def _resolve_for_invoke(self, fn: Fn, qualifier: str | None
                            ) -> tuple[FunctionMeta, AliasRecord | None, dict[str, VersionConfig]]:
        """(meta, alias, versions the qualifier may run) from lsm (blocking)."""
        meta = self.store.meta(*fn)
        if meta is None:
            raise function_not_found(self._arn(fn))
        alias = None
        if qualifier not in (None, LATEST) and not str(qualifier).isdigit():
            alias = self.store.alias(*fn, str(qualifier))
            if alias is None:
                raise function_not_found(self._arn(fn, qualifier))
            wanted = [alias.function_version, *alias.additional_weights]
        else:
            wanted = [qualifier or LATEST]
        versions = {}
        for version in wanted:
            versions[version] = self.store.resolve(*fn, version)
        return meta, alias, versions

    async def _lookup(self, fn: Fn, qualifier: str | None) -> tuple[FunctionMeta, VersionConfig]:
        entry = self._cache.get(fn, {}).get(qualifier)
        if entry is None:
            generation = self._generation.get(fn, 0)
            entry = await asyncio.to_thread(self._resolve_for_invoke, fn, qualifier)
            if self._generation.get(fn, 0) == generation:
                self._cache.setdefault(fn, {})[qualifier] = entry
        meta, alias, versions = entry
        if alias is None:
            return meta, next(iter(versions.values()))
        roll = random.random()
        for version, weight in alias.additional_weights.items():
            if roll < weight:
                return meta, versions[version]
            roll -= weight
        return meta, versions[alias.function_version]

    async def invoke(self, ctx: CallContext, FunctionName: str, InvocationType: str | None = None,
                     LogType: str | None = None, ClientContext: str | None = None, Payload: bytes | None = None,
                     Qualifier: str | None = None, **unused: Any) -> dict[str, Any]:
        fn, qualifier = self._target(ctx, FunctionName, Qualifier)
        kind = InvocationType or "RequestResponse"
        if kind not in ("RequestResponse", "Event", "DryRun"):
            raise validation(kind, "invocationType", "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
        payload = Payload or b""
        client_context = await check_invoke_input(payload, ClientContext, event=kind == "Event")
        meta, config = await self._lookup(fn, qualifier)
        if kind == "DryRun":
            return {"StatusCode": 204}
        caller = Caller(ctx.endpoint)
        invoked_arn = self._arn(fn, qualifier)
        if kind == "Event":
            if meta.reserved_concurrency == 0:
                raise throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
            retries, max_age = async_settings(meta, qualifier)
            record = {
                "request_id": ctx.request_id, "account": fn[0], "region": fn[1], "name": fn[2],
                "qualifier": qualifier, "payload": base64.b64encode(payload).decode(),
                "endpoint": ctx.endpoint,
                "attempts": 0, "max_attempts": retries, "expires_at": time.time() + max_age,
            }
            key, value = self.invoker.enqueue_ops(record)
            await asyncio.to_thread(self.db.put, key, value)
            self.invoker.schedule(key, record, self._run_event, self._report_event)
            return {"StatusCode": 202}
        result = await self.invoker.invoke(config, meta.reserved_concurrency, payload, caller,
                                           invoked_arn=invoked_arn, tail=LogType == "Tail",
                                           client_context=client_context)
        out: dict[str, Any] = {"StatusCode": 200, "Payload": result.payload, "ExecutedVersion": result.executed_version}
        if result.function_error:
            out["FunctionError"] = result.function_error
        if result.log_result is not None:
            out["LogResult"] = result.log_result
        return out

    async def _report_event(self, record: dict[str, Any], result: InvokeResult | None) -> None:
        """Deliver how an async invocation ended: dead-letter queue and OnFailure/OnSuccess destinations."""
        if result is None:
            return
        fn = (record["account"], record["region"], record["name"])
        try:
            meta, config = await self._lookup(fn, record["qualifier"])
        except ServiceError:
            return  # the function is gone, and its settings with it
        failed = result.function_error is not None
        destinations = (meta.event_invoke.get(record["qualifier"] or "") or meta.event_invoke.get("") or {}).get(
            "DestinationConfig") or {}
        target = (destinations.get("OnFailure" if failed else "OnSuccess") or {}).get("Destination")
        payload = base64.b64decode(record["payload"])
        endpoint, key_id = record["endpoint"], root_access_key(record["account"])
        if target:
            document = delivery.invocation_record(
                request_id=record["request_id"], function_arn=self._arn(fn, config.version),
                condition="RetriesExhausted" if failed else "Success", attempts=record["attempts"] + 1,
                payload=payload, executed_version=result.executed_version,
                function_error=result.function_error, response=result.payload,
            )
            await asyncio.to_thread(delivery.send_to_queue, endpoint, key_id, target, document)
        if failed and config.dead_letter_target:
            attributes = delivery.dead_letter_attributes(record["request_id"], delivery.error_message_of(result.payload))
            await asyncio.to_thread(delivery.send_to_queue, endpoint, key_id, config.dead_letter_target,
                                    payload.decode("utf-8", "replace"), attributes)

    async def _run_event(self, record: dict[str, Any]) -> Any:
        fn = (record["account"], record["region"], record["name"])
        qualifier = record["qualifier"]
        meta, config = await self._lookup(fn, qualifier)
        caller = Caller(record["endpoint"])
        return await self.invoker.invoke(config, meta.reserved_concurrency, base64.b64decode(record["payload"]),
                                         caller, invoked_arn=self._arn(fn, qualifier))
