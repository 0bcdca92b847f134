"""``create_app(config)``: the ASGI application. Its lifespan opens the storage engines of the data
directory, builds one provider per enabled service, and closes everything in order at shutdown
(providers stop, then the blob store, then the lsm engine flushes and closes).

Requests under ``/_awsemu/`` and ``/_localstack/`` go to the internal starlette routes; everything
else is an AWS request for the :class:`~awsemu.gateway.asgi.Gateway`.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from awsemu.auth.enforcement import AuthGuard
from awsemu.config import Config
from awsemu.datadir import DataDir
from awsemu.gateway.asgi import Gateway, Receive, Scope, Send
from awsemu.gateway.internal import internal_routes
from awsemu.services.base import Provider
from awsemu.services.registry import provider_class
from awsemu.storage import Storage
from awsemu.storage.blobs import BlobStore
from awsemu.storage.lsm import DB, DBOptions

log = logging.getLogger("awsemu")

# Unreferenced bodies (deleted objects) are collected this often; a body is protected for the
# blob store's grace period after its write, so an upload in flight is never collected.
GC_INTERVAL_SECONDS = 60.0


class AwsemuApp:
    def __init__(self, config: Config, data_dir: DataDir | None = None) -> None:
        self.config = config
        self.data_dir = data_dir
        self.started_at = time.time()
        self.providers: dict[str, Provider] = {}
        self.storage: Storage | None = None
        self.executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="awsemu-worker")
        self.gateway = Gateway(self.providers, self.executor)
        self.internal = internal_routes(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path.startswith("/_awsemu/") or path.startswith("/_localstack/"):
                await self.internal(scope, receive, send)
            else:
                await self.gateway(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.start()
                except Exception as exc:  # reported by uvicorn, which then exits non-zero
                    log.exception("awsemu failed to start: %s", exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self.data_dir is None:
            self.data_dir = DataDir.acquire(self.config.data_dir, self.config.ephemeral)
        self.storage = open_storage(self.data_dir, self.config)
        start_background_work(self.storage, self.config)
        for service in self.config.services:
            cls = provider_class(service)
            if cls is not None:
                provider = cls(self.storage, self.config)
                provider.start()
                self.providers[service] = provider
        for provider in self.providers.values():
            provider.attach(self.providers)  # siblings, for services that call each other directly
        self.gateway.auth_guard = AuthGuard.from_providers(self.providers, self.config.auth)
        log.info("awsemu data dir %s%s", self.data_dir.path, " (ephemeral)" if self.data_dir.ephemeral else "")

    def stop(self) -> None:
        for provider in self.providers.values():
            try:
                provider.stop()
            except Exception:
                log.exception("stopping %s", provider.service_name)
        self.executor.shutdown(wait=True, cancel_futures=False)
        if self.storage is not None:
            close_storage(self.storage)
            self.storage = None
        if self.data_dir is not None:
            self.data_dir.release()

    def service_states(self) -> dict[str, str]:
        return {
            service: (self.providers[service].state() if service in self.providers else "unavailable")
            for service in self.config.services
        }

    def health(self) -> dict[str, Any]:
        from awsemu import __version__

        report: dict[str, Any] = {
            "version": __version__,
            "services": self.service_states(),
            "data_dir": str(self.data_dir.path) if self.data_dir else None,
            "ephemeral": self.config.ephemeral,
            "uptime_seconds": round(time.time() - self.started_at, 3),
        }
        blobs = self.storage.blobs if self.storage else None
        if blobs is not None:
            report["blobs"] = blobs.health()
        return report


def open_storage(data_dir: DataDir, config: Config) -> Storage:
    """Open the engines of a data dir: lsm under meta/, the blob store over drives/ (orphans swept)."""
    db = DB.open(data_dir.meta, DBOptions(durability=config.durability))
    blobs = BlobStore.open(db, data_dir.path)
    log.info("blob store parity and CRC32: %s", "ISA-L" if blobs.parity_encoder == "isa-l"
             else "zfec and zlib (ISA-L not found: Debian's libisal2, or AWSEMU_ISAL=0)")
    blobs.start_up_sweep()
    return Storage(data_dir.path, db, blobs)


def start_background_work(storage: Storage, config: Config) -> None:
    """Free the space of deleted bodies while running, and scrub every body now and then."""
    storage.blobs.start_background_gc(GC_INTERVAL_SECONDS)
    if config.scrub_interval > 0:
        storage.blobs.start_background_scrub(config.scrub_interval)


def close_storage(storage: Storage) -> None:
    if storage.blobs is not None:
        storage.blobs.close()
    storage.db.close()


def create_app(config: Config, data_dir: DataDir | None = None) -> AwsemuApp:
    return AwsemuApp(config, data_dir)
