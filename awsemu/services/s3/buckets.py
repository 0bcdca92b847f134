"""Bucket operations: create (name and LocationConstraint rules), head, delete, list, location.

Bucket names are global across accounts, as in AWS: creating a name another account owns is
``BucketAlreadyExists``; re-creating your own is ``BucketAlreadyOwnedByYou`` except in
us-east-1, where S3 answers 200 for legacy compatibility (CreateBucket API reference).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import time
from datetime import datetime, timezone
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.s3 import keys
from awsemu.services.s3.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    IllegalLocationConstraintException,
    InvalidBucketName,
    InvalidLocationConstraint,
    S3Error,
    invalid_argument,
    no_such_bucket,
)
from awsemu.services.s3.records import BucketRecord
from awsemu.services.s3.store import S3Store, part_owner

_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
REGIONS = frozenset(
    """af-south-1 ap-east-1 ap-east-2 ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-south-1 ap-south-2
    ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-7 ca-central-1
    ca-west-1 cn-north-1 cn-northwest-1 eu-central-1 eu-central-2 eu-north-1 eu-south-1 eu-south-2 eu-west-1
    eu-west-2 eu-west-3 il-central-1 me-central-1 me-south-1 mx-central-1 sa-east-1 us-east-1 us-east-2
    us-gov-east-1 us-gov-west-1 us-west-1 us-west-2 EU""".split()
)
MAX_BUCKETS_PAGE = 10000


def canonical_user_id(account: str) -> str:
    """A stable 64-hex canonical user id per account (S3's Owner ID)."""
    return hashlib.sha256(f"awsemu-canonical-{account}".encode()).hexdigest()


def owner_of(account: str) -> dict[str, str]:
    return {"ID": canonical_user_id(account)}


def valid_bucket_name(name: str) -> bool:
    if not _NAME.match(name) or ".." in name:
        return False
    if name.startswith(_BAD_PREFIXES) or name.endswith(_BAD_SUFFIXES):
        return False
    try:
        ipaddress.IPv4Address(name)
        return False
    except ValueError:
        return True


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


class BucketsMixin:
    store: S3Store

    def _bucket(self, name: str) -> BucketRecord:
        rec = self.store.bucket(name)
        if rec is None:
            raise no_such_bucket(name)
        return rec

    def create_bucket(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        if not valid_bucket_name(Bucket):
            raise InvalidBucketName(fields={"BucketName": Bucket})
        config = p.get("CreateBucketConfiguration") or {}
        constraint = config.get("LocationConstraint")
        region = ctx.region
        if constraint:
            if constraint == "us-east-1" or constraint not in REGIONS:
                raise InvalidLocationConstraint(fields={"LocationConstraint": constraint})
            if region != "us-east-1" and constraint != region:
                raise IllegalLocationConstraintException(
                    f"The {constraint} location constraint is incompatible for the region specific "
                    "endpoint this request was sent to."
                )
            region = "eu-west-1" if constraint == "EU" else constraint
        elif region != "us-east-1":
            raise IllegalLocationConstraintException()
        ownership = p.get("ObjectOwnership") or "BucketOwnerEnforced"
        acl = p.get("ACL")
        grants = [g for g in ("GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP") if p.get(g)]
        if ownership == "BucketOwnerEnforced" and ((acl and acl != "private") or grants):
            raise S3Error(
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
                code="InvalidBucketAclWithObjectOwnership",
                status=400,
            )
        with self.store.bucket_lock:
            existing = self.store.bucket(Bucket)
            if existing is not None:
                if existing.owner != ctx.account_id:
                    raise BucketAlreadyExists(fields={"BucketName": Bucket})
                if existing.region == "us-east-1" and region == "us-east-1":
                    return {"Location": f"/{Bucket}", "BucketArn": bucket_arn(Bucket)}
                raise BucketAlreadyOwnedByYou(fields={"BucketName": Bucket})
            rec = BucketRecord(name=Bucket, owner=ctx.account_id, region=region, created=time.time())
            rec.config["ownership"] = {"Rules": [{"ObjectOwnership": ownership}]}
            if p.get("ObjectLockEnabledForBucket"):
                rec.object_lock = True
                rec.versioning = "Enabled"
                rec.config["object_lock"] = {"ObjectLockEnabled": "Enabled"}
            rec.config["pab"] = {
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
            }
            if acl or grants:
                from awsemu.services.s3.acl import grants_from_headers

                rec.config["acl"] = grants_from_headers(ctx.account_id, p, owner_of(ctx.account_id))
            self.store.save_bucket(rec)
        location = f"/{Bucket}" if region == "us-east-1" else f"http://{Bucket}.s3.amazonaws.com/"
        return {"Location": location, "BucketArn": bucket_arn(Bucket)}

    def head_bucket(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        rec = self.store.bucket(Bucket)
        if rec is None:
            raise no_such_bucket(Bucket)
        return {"BucketRegion": rec.region, "AccessPointAlias": False, "BucketArn": bucket_arn(Bucket)}

    def delete_bucket(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        rec = self._bucket(Bucket)
        with self.store.bucket_lock:
            start, end = keys.versions_range(Bucket)
            for _ in self.store.db.scan(start, end, limit=1):
                raise BucketNotEmpty(fields={"BucketName": Bucket})
            # incomplete multipart uploads do not keep a bucket alive: they go with it
            ops: list[tuple[bytes, bytes | None]] = []
            ustart, uend = keys.uploads_range(Bucket)
            for k, v in self.store.db.scan(ustart, uend):
                upload_id = str(keys.parse(k)[4])
                ops.append((k, None))
                for part in self.store.parts(upload_id):
                    ops.append((keys.part(upload_id, part.number), None))
                    if part.blob_id:
                        ops += self.store.blobs.unref_ops(part.blob_id, part_owner(upload_id, part.number))
            if ops:
                self.store.db.write_batch(ops)
            self.store.drop_bucket(rec)
        return {}

    def list_buckets(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        prefix = p.get("Prefix") or ""
        region_filter = p.get("BucketRegion")
        max_buckets = p.get("MaxBuckets")
        if max_buckets is not None and not 1 <= max_buckets <= MAX_BUCKETS_PAGE:
            raise invalid_argument("Argument max-buckets must be an integer between 1 and 10000", "max-buckets", max_buckets)
        after = ""
        token = p.get("ContinuationToken")
        if token:
            try:
                after = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
            except (ValueError, KeyError, TypeError):
                raise invalid_argument("The continuation token provided is incorrect", "continuation-token", token)
        out: list[dict[str, Any]] = []
        next_token = None
        limit = max_buckets or MAX_BUCKETS_PAGE
        for name in self.store.owned_buckets(ctx.account_id):
            if name <= after or not name.startswith(prefix):
                continue
            rec = self.store.bucket(name)
            if rec is None or (region_filter and rec.region != region_filter):
                continue
            if len(out) == limit:
                if max_buckets is not None:
                    next_token = base64.urlsafe_b64encode(json.dumps({"after": out[-1]["Name"]}).encode()).decode()
                break
            out.append(
                {
                    "Name": name,
                    "CreationDate": datetime.fromtimestamp(rec.created, timezone.utc),
                    "BucketRegion": rec.region,
                    "BucketArn": bucket_arn(name),
                }
            )
        result: dict[str, Any] = {"Buckets": out, "Owner": owner_of(ctx.account_id)}
        if next_token:
            result["ContinuationToken"] = next_token
        if p.get("Prefix") is not None:
            result["Prefix"] = prefix
        return result

    def get_bucket_location(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        rec = self._bucket(Bucket)
        return {"LocationConstraint": None if rec.region == "us-east-1" else rec.region}
