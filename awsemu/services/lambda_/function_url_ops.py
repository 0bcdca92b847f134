"""Function URL configurations (Create/Get/Update/Delete/ListFunctionUrlConfig[s]) and requests on them.

Kept in the function's meta record per qualifier (``""`` for $LATEST, else an alias name). The URL
has AWS's shape, ``https://<32 chars>.lambda-url.<region>.on.aws/``. awsemu serves requests whose
Host is ``<32 chars>.lambda-url.<region>.<anything>`` (the gateway routes them by Host to
:meth:`FunctionUrlOperations.serve_function_url`): send to awsemu's port with that Host header, or
use a local name such as ``http://<id>.lambda-url.us-east-1.localhost:4566/``. The url id -> function
index is kept in memory, rebuilt from the meta records when an id is not in it (so it survives
restarts and never needs its own record); a hit is checked against the meta record.
AuthType ``AWS_IAM`` URLs require a SigV4-signed request: the gateway (awsemu/gateway/function_urls.py)
asks :meth:`FunctionUrlOperations.function_url_auth` which requests need one, verifies the signature
and the caller's ``lambda:InvokeFunctionUrl`` permission, and passes the caller on as ``authorizer``
(the event's ``requestContext.authorizer.iam``); an unsigned request that reaches the provider
anyway gets the same 403. The Cors config is applied (function_url_cors.py): preflights are
answered here without invoking the function, other responses get the Access-Control-* headers.
``InvokeMode: RESPONSE_STREAM`` URLs stream the function's response (function_url_stream.py).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import string
import threading
from typing import Any

from awsemu.services.lambda_ import function_url_cors as cors
from awsemu.services.lambda_ import function_url_stream as url_stream
from awsemu.services.lambda_.function_url_http import Response, UrlRequest, build_event, http_response, url_id_of
from awsemu.services.lambda_.invoke import Caller

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_.checks import MAX_SYNC_PAYLOAD, Fn, marker, page_size, unmarker
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.services.lambda_.errors import ResourceConflictException, ResourceNotFoundException, validation
from awsemu.services.lambda_.functions import LATEST, FunctionStore
from awsemu.storage.lsm.keycodec import decode, encode, prefix_end

AUTH_TYPES = ("NONE", "AWS_IAM")
INVOKE_MODES = ("BUFFERED", "RESPONSE_STREAM")
_ID_ALPHABET = string.ascii_lowercase + string.digits


def _iso_now() -> str:
    return fx.now_lambda().replace("+0000", "Z")


class FunctionUrlOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock``, ``_target``, ``_arn``, ``_invalidate``."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock
    invoker: Any
    _url_index: dict[str, tuple[Fn, str]]

    def _url_target(self, ctx: CallContext, function_name: str, qualifier: str | None) -> tuple[Fn, str]:
        fn, qualifier = self._target(ctx, function_name, qualifier)
        if qualifier is not None and qualifier != LATEST:
            if qualifier.isdigit():
                raise validation(qualifier, "qualifier", "Member must satisfy regular expression pattern: "
                                 r"((?!^\d+$)^[0-9a-zA-Z-_]+$)")
            self.store.resolve(*fn, qualifier)  # the alias must exist
        else:
            self.store.require_meta(*fn)
        return fn, "" if qualifier in (None, LATEST) else str(qualifier)

    def _url_output(self, fn: Fn, key: str, config: dict[str, Any], with_modified: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in config.items() if with_modified or k != "LastModifiedTime"}
        out["FunctionArn"] = self._arn(fn, key or None)
        return out

    @staticmethod
    def _url_checks(auth_type: str | None, invoke_mode: str | None) -> None:
        if auth_type is not None and auth_type not in AUTH_TYPES:
            raise validation(auth_type, "authType", "Member must satisfy enum value set: [AWS_IAM, NONE]")
        if invoke_mode is not None and invoke_mode not in INVOKE_MODES:
            raise validation(invoke_mode, "invokeMode", "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]")

    def create_function_url_config(self, ctx: CallContext, FunctionName: str, AuthType: str,
                                   Qualifier: str | None = None, Cors: dict[str, Any] | None = None,
                                   InvokeMode: str | None = None) -> dict[str, Any]:
        self._url_checks(AuthType, InvokeMode)
        with self._lock:
            fn, key = self._url_target(ctx, FunctionName, Qualifier)
            meta = self.store.require_meta(*fn)
            if key in meta.urls:
                raise ResourceConflictException(
                    f"Failed to create function url config for [functionArn = {self._arn(fn, key or None)}]. "
                    "Error message:  FunctionUrlConfig exists for this Lambda function"
                )
            url_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(32))
            now = _iso_now()
            config: dict[str, Any] = {
                "FunctionUrl": f"https://{url_id}.lambda-url.{fn[1]}.on.aws/", "AuthType": AuthType,
                "CreationTime": now, "LastModifiedTime": now, "InvokeMode": InvokeMode or "BUFFERED",
            }
            if Cors is not None:
                config["Cors"] = Cors
            meta.urls[key] = config
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return self._url_output(fn, key, config, with_modified=False)

    def _require_url(self, ctx: CallContext, function_name: str, qualifier: str | None
                     ) -> tuple[Fn, str, fx.FunctionMeta]:
        fn, key = self._url_target(ctx, function_name, qualifier)
        meta = self.store.require_meta(*fn)
        if key not in meta.urls:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        return fn, key, meta

    def get_function_url_config(self, ctx: CallContext, FunctionName: str,
                                Qualifier: str | None = None) -> dict[str, Any]:
        fn, key, meta = self._require_url(ctx, FunctionName, Qualifier)
        return self._url_output(fn, key, meta.urls[key])

    def update_function_url_config(self, ctx: CallContext, FunctionName: str, Qualifier: str | None = None,
                                   AuthType: str | None = None, Cors: dict[str, Any] | None = None,
                                   InvokeMode: str | None = None) -> dict[str, Any]:
        self._url_checks(AuthType, InvokeMode)
        with self._lock:
            fn, key, meta = self._require_url(ctx, FunctionName, Qualifier)
            config = meta.urls[key]
            for name, value in (("AuthType", AuthType), ("Cors", Cors), ("InvokeMode", InvokeMode)):
                if value is not None:
                    config[name] = value
            config["LastModifiedTime"] = _iso_now()
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return self._url_output(fn, key, config)

    def delete_function_url_config(self, ctx: CallContext, FunctionName: str,
                                   Qualifier: str | None = None) -> dict[str, Any]:
        with self._lock:
            fn, key, meta = self._require_url(ctx, FunctionName, Qualifier)
            del meta.urls[key]
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {}

    def list_function_url_configs(self, ctx: CallContext, FunctionName: str, Marker: str | None = None,
                                  MaxItems: int | None = None) -> dict[str, Any]:
        fn, _ = self._target(ctx, FunctionName)
        size = page_size(MaxItems)
        after = unmarker(Marker)
        meta = self.store.require_meta(*fn)
        keys = sorted(k for k in meta.urls if after is None or k > after)
        out: dict[str, Any] = {"FunctionUrlConfigs": [self._url_output(fn, k, meta.urls[k]) for k in keys[:size]]}
        if len(keys) > size:
            out["NextMarker"] = marker(keys[size - 1])
        return out

    # -- requests on the URLs ----------------------------------------------------------------------
    def _url_owner(self, url_id: str) -> tuple[Fn, str, dict[str, Any]] | None:
        """(function, qualifier key, url config) of a url id, or None (blocking: reads lsm)."""
        for attempt in range(2):
            hit = self._url_index.get(url_id)
            if hit is not None:
                meta = self.store.meta(*hit[0])
                config = meta.urls.get(hit[1]) if meta is not None else None
                if config is not None and url_id_of(config["FunctionUrl"].split("//", 1)[1]) == url_id:
                    return hit[0], hit[1], config
            if attempt == 0:
                self._rebuild_url_index()
        return None

    def _rebuild_url_index(self) -> None:
        start = encode("lambda", "fn")
        end = prefix_end(start)
        index: dict[str, tuple[Fn, str]] = {}
        for raw_key, raw in self.db.scan(start, end):
            _, _, account, region, name = decode(raw_key)
            fn = (str(account), str(region), str(name))
            for key, config in fx.FunctionMeta.from_bytes(raw).urls.items():
                index[url_id_of(config["FunctionUrl"].split("//", 1)[1])] = (fn, key)
        self._url_index = index

    def function_url_auth(self, host: str, method: str, headers: list[tuple[str, str]]) -> str | None:
        """The (qualified) function ARN whose ``lambda:InvokeFunctionUrl`` permission a request on
        this URL must be signed for, or None when it needs no signature (AuthType NONE, an unknown
        URL, or a CORS preflight). Blocking: reads lsm."""
        owner = self._url_owner(url_id_of(host))
        if owner is None:
            return None
        fn, key, config = owner
        if config.get("AuthType") != "AWS_IAM" or cors.is_preflight(config.get("Cors"), method, headers):
            return None
        return self._arn(fn, key or None)

    async def serve_function_url(self, *, method: str, raw_path: str, query_string: str,
                                 headers: list[tuple[str, str]], body: bytes, source_ip: str,
                                 endpoint: str, authorizer: dict[str, Any] | None = None) -> Response:
        """Answer an HTTP request on a function URL: (status, headers, body). Plain data in and out.
        ``authorizer`` is the verified caller of an AWS_IAM URL (the gateway checked the signature)."""
        request = UrlRequest(method, raw_path, query_string, headers, body, source_ip)
        host = next((v for k, v in request.headers if k.lower() == "host"), "")
        owner = await asyncio.to_thread(self._url_owner, url_id_of(host))
        if owner is None:
            return 403, [("content-type", "application/json")], b'{"Message":"Forbidden"}'
        fn, key, config = owner
        cors_config = config.get("Cors")
        if cors.is_preflight(cors_config, method, request.headers):
            return cors.preflight(cors_config, request.headers)
        if config.get("AuthType") == "AWS_IAM" and authorizer is None:
            return 403, [("content-type", "application/json")], b'{"Message":"Forbidden"}'
        event = build_event(request, fn[0], config.get("AuthType", "NONE"), authorizer)
        payload = json.dumps(event).encode()
        if len(payload) > MAX_SYNC_PAYLOAD:
            return 413, [("content-type", "application/json")], b'{"Message":"Request Entity Too Large"}'
        qualifier = key or None
        try:
            meta, version = await self._lookup(fn, qualifier)
            if config.get("InvokeMode") == "RESPONSE_STREAM":
                stream = url_stream.UrlStream()
                task = asyncio.ensure_future(self.invoker.invoke(
                    version, meta.reserved_concurrency, payload, Caller(endpoint),
                    invoked_arn=self._arn(fn, qualifier), on_chunk=stream.on_chunk))
                response = await url_stream.respond(task, stream)
            else:
                result = await self.invoker.invoke(version, meta.reserved_concurrency, payload,
                                                   Caller(endpoint), invoked_arn=self._arn(fn, qualifier))
                response = http_response(result.payload, result.function_error)
        except ServiceError as exc:
            if exc.status == 429:
                return 429, [("content-type", "application/json")], b'{"Message":"Rate Exceeded."}'
            return 403, [("content-type", "application/json")], b'{"Message":"Forbidden"}'
        return cors.decorate(cors_config, request.headers, response)
