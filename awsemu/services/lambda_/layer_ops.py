"""The layer operations (PublishLayerVersion, GetLayerVersion[ByArn], ListLayers, ListLayerVersions,
DeleteLayerVersion), mixed into LambdaProvider; records and the merged ``/opt`` live in layers.py."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import layers
from awsemu.services.lambda_.checks import marker, page_size, unmarker
from awsemu.services.lambda_.code import CodeStore
from awsemu.services.lambda_.layer_policy_ops import policy_key
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.services.lambda_.errors import validation
from awsemu.services.lambda_.functions import now_lambda


class LayerOperations(ProviderParts):
    """Needs from the provider: ``db``, ``code``, ``layers``, ``_lock`` and ``_fetch_package``."""

    db: Any
    code: CodeStore
    layers: layers.LayerStore
    _lock: threading.RLock

    async def publish_layer_version(self, ctx: CallContext, LayerName: str, Content: dict[str, Any],
                                    Description: str = "", CompatibleRuntimes: list[str] | None = None,
                                    CompatibleArchitectures: list[str] | None = None,
                                    LicenseInfo: str | None = None) -> dict[str, Any]:
        name = self._layer_name(ctx, LayerName)
        package = await self._fetch_package(ctx, Content)
        blob_id = await self.code.store(package)

        def write() -> dict[str, Any]:
            with self._lock:
                number = self.layers.next_version(ctx.account_id, ctx.region, name)
                layer = layers.LayerVersion(
                    name=name, account=ctx.account_id, region=ctx.region, version=number,
                    code_sha256=package.sha256_b64, code_size=package.size, blob_id=blob_id,
                    created_date=now_lambda(), description=Description or "",
                    compatible_runtimes=list(CompatibleRuntimes or []),
                    compatible_architectures=list(CompatibleArchitectures or []), license_info=LicenseInfo,
                )
                self.db.write_batch([
                    (layers.version_key(ctx.account_id, ctx.region, name, number), layer.to_bytes()),
                    (layers.counter_key(ctx.account_id, ctx.region, name), str(number).encode()),
                    *self.code.ref_ops(blob_id, layers.owner(layer)),
                ])
            return layer.output(self._layer_location(layer))

        return await asyncio.to_thread(write)

    @staticmethod
    def _layer_name(ctx: CallContext, raw: str) -> str:
        """A LayerName parameter is a name or the layer's ARN (``arn:...:layer:name``)."""
        if raw.startswith("arn:"):
            parts = raw.split(":")
            if len(parts) != 7 or parts[5] != "layer":
                raise validation(raw, "layerName", "Member must satisfy regular expression pattern: "
                                 r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+")
            raw = parts[6]
        layers.check_name(raw)
        return raw

    @staticmethod
    def _layer_location(layer: layers.LayerVersion) -> str:
        return (f"https://awslambda-{layer.region}-layers.s3.{layer.region}.amazonaws.com/snapshots/"
                f"{layer.account}/{layer.name}-{layer.blob_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=600")

    def get_layer_version(self, ctx: CallContext, LayerName: str, VersionNumber: int) -> dict[str, Any]:
        name = self._layer_name(ctx, LayerName)
        account, region = ctx.account_id, ctx.region
        if LayerName.startswith("arn:"):  # another account's layer (its layer policy lets the caller read it)
            region, account = LayerName.split(":")[3:5]
        layer = self.layers.require(account, region, name, VersionNumber)
        return layer.output(self._layer_location(layer))

    def get_layer_version_by_arn(self, ctx: CallContext, Arn: str) -> dict[str, Any]:
        layer = self.layers.by_arn(Arn)
        return layer.output(self._layer_location(layer))

    def list_layer_versions(self, ctx: CallContext, LayerName: str, CompatibleRuntime: str | None = None,
                            CompatibleArchitecture: str | None = None, Marker: str | None = None,
                            MaxItems: int | None = None) -> dict[str, Any]:
        name = self._layer_name(ctx, LayerName)
        size = page_size(MaxItems)
        after = unmarker(Marker)
        found = [v for v in self.layers.versions(ctx.account_id, ctx.region, name)
                 if (CompatibleRuntime is None or CompatibleRuntime in v.compatible_runtimes)
                 and (CompatibleArchitecture is None or CompatibleArchitecture in v.compatible_architectures)]
        found.reverse()  # newest first, as Lambda lists them
        if after is not None:
            found = [v for v in found if v.version < int(after)]
        out: dict[str, Any] = {"LayerVersions": [v.summary() for v in found[:size]]}
        if len(found) > size:
            out["NextMarker"] = marker(str(found[size - 1].version))
        return out

    def list_layers(self, ctx: CallContext, CompatibleRuntime: str | None = None,
                    CompatibleArchitecture: str | None = None, Marker: str | None = None,
                    MaxItems: int | None = None) -> dict[str, Any]:
        size = page_size(MaxItems)
        after = unmarker(Marker)
        latest: dict[str, layers.LayerVersion] = {}
        for v in self.layers.all_versions(ctx.account_id, ctx.region):
            if (CompatibleRuntime is None or CompatibleRuntime in v.compatible_runtimes) and (
                    CompatibleArchitecture is None or CompatibleArchitecture in v.compatible_architectures):
                latest[v.name] = v  # versions scan in ascending order: the last one wins
        names = sorted(n for n in latest if after is None or n > after)
        out: dict[str, Any] = {"Layers": [
            {"LayerName": n, "LayerArn": latest[n].layer_arn, "LatestMatchingVersion": latest[n].summary()}
            for n in names[:size]
        ]}
        if len(names) > size:
            out["NextMarker"] = marker(names[size - 1])
        return out

    def delete_layer_version(self, ctx: CallContext, LayerName: str, VersionNumber: int) -> dict[str, Any]:
        name = self._layer_name(ctx, LayerName)
        with self._lock:
            layer = self.layers.get(ctx.account_id, ctx.region, name, VersionNumber)
            if layer is not None:  # deleting a missing version is not an error in Lambda
                self.db.write_batch([(layers.version_key(ctx.account_id, ctx.region, name, VersionNumber), None),
                                     (policy_key(ctx.account_id, ctx.region, name, VersionNumber), None),
                                     *self.code.unref_ops(layer.blob_id, layers.owner(layer))])
        return {}
