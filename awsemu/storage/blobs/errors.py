"""Errors raised by the blob store.

They carry data (blob id, which shards failed) so a provider can map them to its own service
error and an operator can see what broke; the store itself never speaks HTTP.
"""

from __future__ import annotations


class BlobStoreError(Exception):
    """Base class of every blob-store error."""


class BlobNotFound(BlobStoreError, KeyError):
    """No manifest exists for this blob id (never written, or garbage-collected)."""

    def __init__(self, blob_id: str) -> None:
        super().__init__(blob_id)
        self.blob_id = blob_id

    def __str__(self) -> str:
        return f"blob {self.blob_id} not found"


class BlobUnrecoverable(BlobStoreError):
    """Fewer than k good shard blocks remain for a stripe: the body cannot be rebuilt.

    ``bad_shards`` maps shard index -> reason ("missing", "checksum", "short") for the stripe
    that failed; ``drives`` lists the drive directories holding those shards.
    """

    def __init__(self, blob_id: str, stripe: int, bad_shards: dict[int, str], drives: list[str]) -> None:
        self.blob_id = blob_id
        self.stripe = stripe
        self.bad_shards = dict(bad_shards)
        self.drives = list(drives)
        detail = ", ".join(f"shard {i} {why}" for i, why in sorted(self.bad_shards.items()))
        super().__init__(
            f"blob {blob_id} stripe {stripe} is unrecoverable: {detail} (drives: {', '.join(self.drives)})"
        )


class UnsupportedChecksum(BlobStoreError, ValueError):
    """A checksum algorithm other than CRC32, CRC32C, CRC64NVME, SHA1, SHA256 was requested."""
