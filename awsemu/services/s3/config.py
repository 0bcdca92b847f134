"""Bucket configuration: tagging, ACLs and ownership controls, public access block, policy, CORS,
default encryption, website; and object tagging and ACLs.

Each configuration is stored in the bucket record under a name (``tagging``, ``acl``,
``ownership``, ``pab``, ``policy``, ``cors``, ``encryption``, ``website`` ...) as the
botocore-shaped dict it arrived as, so Get* answers it as stored. Validation answers AWS's
errors; enforcement happens where AWS enforces it (ACL writes, public policies, CORS on
requests, default encryption on writes).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.s3.acl import canned, check_acl_allowed, grants_from_headers, is_public
from awsemu.services.s3.buckets import owner_of
from awsemu.services.s3.errors import (
    AccessDenied,
    InvalidRequest,
    MalformedPolicy,
    MalformedXML,
    NoSuchBucketPolicy,
    NoSuchCORSConfiguration,
    NoSuchPublicAccessBlockConfiguration,
    NoSuchTagSet,
    NoSuchWebsiteConfiguration,
    OwnershipControlsNotFoundError,
    invalid_argument,
)
from awsemu.services.s3.object_attrs import validate_tags
from awsemu.services.s3.records import BucketRecord, ObjectVersion
from awsemu.services.s3.store import S3Store

CORS_METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
OWNERSHIP_VALUES = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")
DEFAULT_ENCRYPTION = {
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
}


def _set(name: str, value: Any) -> Callable[[BucketRecord], None]:
    def change(rec: BucketRecord) -> None:
        if value is None:
            rec.config.pop(name, None)
        else:
            rec.config[name] = value

    return change


def validate_policy(text: str, bucket: str) -> dict[str, Any]:
    """Parse a bucket policy and answer S3's ``MalformedPolicy`` messages for what it rejects."""
    if not text.lstrip().startswith("{"):
        raise MalformedPolicy()
    try:
        doc = json.loads(text)
    except ValueError:
        raise MalformedPolicy("This policy contains invalid Json") from None
    statements = doc.get("Statement")
    if statements is None:
        raise MalformedPolicy("Missing required field Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise MalformedPolicy("Could not parse the policy: Statement is empty!")
    for st in statements:
        if not isinstance(st, dict):
            raise MalformedPolicy("This policy contains invalid Json")
        effect = st.get("Effect")
        if effect is None:
            raise MalformedPolicy("Missing required field Effect")
        if effect not in ("Allow", "Deny"):
            raise MalformedPolicy(f"Invalid effect: {effect}")
        if "Principal" not in st and "NotPrincipal" not in st:
            raise MalformedPolicy("Missing required field Principal")
        if "Action" not in st and "NotAction" not in st:
            raise MalformedPolicy("Missing required field Action")
        resources = st.get("Resource", st.get("NotResource"))
        if resources is None:
            raise MalformedPolicy("Missing required field Resource")
        for res in [resources] if isinstance(resources, str) else resources:
            if not (res == "*" or res == f"arn:aws:s3:::{bucket}" or res.startswith(f"arn:aws:s3:::{bucket}/")):
                raise MalformedPolicy("Policy has invalid resource")
        for action in [st.get("Action", [])] if isinstance(st.get("Action"), str) else st.get("Action", []):
            if action != "*" and not action.startswith("s3:") and not action.startswith("s3*"):
                raise MalformedPolicy("Policy has invalid action")
    return doc


def policy_is_public(doc: dict[str, Any]) -> bool:
    statements = doc.get("Statement")
    for st in [statements] if isinstance(statements, dict) else statements or []:
        if st.get("Effect") != "Allow" or st.get("Condition"):
            continue
        principal = st.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"])):
            return True
    return False


def validate_cors(config: dict[str, Any]) -> None:
    rules = config.get("CORSRules") or []
    if not rules or len(rules) > 100:
        raise MalformedXML()
    for rule in rules:
        if not rule.get("AllowedMethods") or not rule.get("AllowedOrigins"):
            raise MalformedXML()
        for method in rule["AllowedMethods"]:
            if method not in CORS_METHODS:
                raise InvalidRequest(f"Found unsupported HTTP method in CORS config. Unsupported method is {method}")
        for origin in rule["AllowedOrigins"]:
            if origin.count("*") > 1:
                raise InvalidRequest(f'AllowedOrigin "{origin}" can not have more than one wildcard.')
        for header in rule.get("AllowedHeaders") or []:
            if header.count("*") > 1:
                raise InvalidRequest(f'AllowedHeader "{header}" can not have more than one wildcard.')


class ConfigMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]
    _resolve: Callable[..., ObjectVersion]

    def _update(self, name: str, change: Callable[[BucketRecord], None]) -> BucketRecord:
        rec = self.store.update_bucket(name, change)
        if rec is None:
            self._bucket(name)  # raises NoSuchBucket
            raise AssertionError("unreachable")
        return rec

    # --- bucket tagging ------------------------------------------------------------------------

    def put_bucket_tagging(self, ctx: CallContext, Bucket: str, Tagging: dict[str, Any], **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        tags = validate_tags([(t.get("Key", ""), t.get("Value", "")) for t in Tagging.get("TagSet") or []], limit=50)
        self._update(Bucket, _set("tagging", [{"Key": k, "Value": v} for k, v in tags.items()]))
        return {}

    def get_bucket_tagging(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        tags = self._bucket(Bucket).config.get("tagging")
        if not tags:
            raise NoSuchTagSet(fields={"BucketName": Bucket})
        return {"TagSet": tags}

    def delete_bucket_tagging(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        self._update(Bucket, _set("tagging", None))
        return {}

    # --- object tagging ------------------------------------------------------------------------

    def put_object_tagging(self, ctx: CallContext, Bucket: str, Key: str, Tagging: dict[str, Any], **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        tags = validate_tags([(t.get("Key", ""), t.get("Value", "")) for t in Tagging.get("TagSet") or []])
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        rec.tags = tags
        self.store.rewrite_version(Bucket, rec)
        return {"VersionId": rec.version_id} if bucket.versioning else {}

    def get_object_tagging(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        out: dict[str, Any] = {"TagSet": [{"Key": k, "Value": v} for k, v in rec.tags.items()]}
        if bucket.versioning:
            out["VersionId"] = rec.version_id
        return out

    def delete_object_tagging(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        rec.tags = {}
        self.store.rewrite_version(Bucket, rec)
        return {"VersionId": rec.version_id} if bucket.versioning else {}

    # --- ACLs and ownership --------------------------------------------------------------------

    def _acl_from_request(self, ctx: CallContext, bucket: BucketRecord, p: dict[str, Any]) -> dict[str, Any] | None:
        if p.get("AccessControlPolicy"):
            policy = p["AccessControlPolicy"]
            return {"Owner": policy.get("Owner") or owner_of(bucket.owner), "Grants": policy.get("Grants") or []}
        if p.get("ACL") or any(p.get(m) for m in ("GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")):
            return grants_from_headers(ctx.account_id, p, owner_of(bucket.owner))
        return None

    def _acl_for_write(self, ctx: CallContext, bucket: BucketRecord, p: dict[str, Any]) -> dict[str, Any] | None:
        """The ACL an object write asks for (None: the default), after ownership/PAB checks."""
        acl = self._acl_from_request(ctx, bucket, p)
        if acl is None:
            return None
        check_acl_allowed(bucket.config, acl, p.get("ACL"))
        return acl

    def put_bucket_acl(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        acl = self._acl_from_request(ctx, bucket, p)
        if acl is None:
            raise MalformedXML()
        check_acl_allowed(bucket.config, acl, p.get("ACL"))
        self._update(Bucket, _set("acl", acl))
        return {}

    def get_bucket_acl(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        return bucket.config.get("acl") or canned("private", owner_of(bucket.owner))

    def put_object_acl(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        acl = self._acl_from_request(ctx, bucket, p)
        if acl is None:
            raise MalformedXML()
        check_acl_allowed(bucket.config, acl, p.get("ACL"))
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        rec.acl = acl
        self.store.rewrite_version(Bucket, rec)
        return {}

    def get_object_acl(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        return rec.acl or canned("private", owner_of(bucket.owner))

    def put_bucket_ownership_controls(self, ctx: CallContext, Bucket: str, OwnershipControls: dict[str, Any],
                                      **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        rules = OwnershipControls.get("Rules") or []
        if len(rules) != 1 or rules[0].get("ObjectOwnership") not in OWNERSHIP_VALUES:
            raise MalformedXML()
        self._update(Bucket, _set("ownership", {"Rules": rules}))
        return {}

    def get_bucket_ownership_controls(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        config = self._bucket(Bucket).config.get("ownership")
        if not config:
            raise OwnershipControlsNotFoundError(fields={"BucketName": Bucket})
        return {"OwnershipControls": config}

    def delete_bucket_ownership_controls(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        self._update(Bucket, _set("ownership", None))
        return {}

    # --- public access block -------------------------------------------------------------------

    def put_public_access_block(self, ctx: CallContext, Bucket: str, PublicAccessBlockConfiguration: dict[str, Any],
                                **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        names = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        config = {n: bool(PublicAccessBlockConfiguration.get(n, False)) for n in names}
        self._update(Bucket, _set("pab", config))
        return {}

    def get_public_access_block(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        config = self._bucket(Bucket).config.get("pab")
        if config is None:
            raise NoSuchPublicAccessBlockConfiguration(fields={"BucketName": Bucket})
        return {"PublicAccessBlockConfiguration": config}

    def delete_public_access_block(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        self._update(Bucket, _set("pab", None))
        return {}

    # --- policy --------------------------------------------------------------------------------

    def put_bucket_policy(self, ctx: CallContext, Bucket: str, Policy: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        doc = validate_policy(Policy, Bucket)
        if (bucket.config.get("pab") or {}).get("BlockPublicPolicy") and policy_is_public(doc):
            raise AccessDenied()
        self._update(Bucket, _set("policy", Policy))
        return {}

    def get_bucket_policy(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        policy = self._bucket(Bucket).config.get("policy")
        if policy is None:
            raise NoSuchBucketPolicy(fields={"BucketName": Bucket})
        return {"Policy": policy}

    def delete_bucket_policy(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        self._update(Bucket, _set("policy", None))
        return {}

    def get_bucket_policy_status(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        policy = self._bucket(Bucket).config.get("policy")
        if policy is None:
            raise NoSuchBucketPolicy(fields={"BucketName": Bucket})
        return {"PolicyStatus": {"IsPublic": policy_is_public(json.loads(policy))}}

    # --- CORS ----------------------------------------------------------------------------------

    def put_bucket_cors(self, ctx: CallContext, Bucket: str, CORSConfiguration: dict[str, Any], **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        validate_cors(CORSConfiguration)
        self._update(Bucket, _set("cors", CORSConfiguration))
        return {}

    def get_bucket_cors(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        config = self._bucket(Bucket).config.get("cors")
        if not config:
            raise NoSuchCORSConfiguration(fields={"BucketName": Bucket})
        return {"CORSRules": config.get("CORSRules") or []}

    def delete_bucket_cors(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        self._update(Bucket, _set("cors", None))
        return {}

    # --- default encryption --------------------------------------------------------------------

    def put_bucket_encryption(self, ctx: CallContext, Bucket: str, ServerSideEncryptionConfiguration: dict[str, Any],
                              **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        rules = ServerSideEncryptionConfiguration.get("Rules") or []
        if not rules:
            raise MalformedXML()
        for rule in rules:
            default = rule.get("ApplyServerSideEncryptionByDefault") or {}
            algorithm = default.get("SSEAlgorithm")
            if algorithm not in ("AES256", "aws:kms", "aws:kms:dsse"):
                raise MalformedXML()
            if algorithm == "AES256" and default.get("KMSMasterKeyID"):
                raise invalid_argument("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                                       "ApplyServerSideEncryptionByDefault", None)
        self._update(Bucket, _set("encryption", ServerSideEncryptionConfiguration))
        return {}

    def get_bucket_encryption(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        config = self._bucket(Bucket).config.get("encryption") or DEFAULT_ENCRYPTION
        return {"ServerSideEncryptionConfiguration": config}

    def delete_bucket_encryption(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        self._update(Bucket, _set("encryption", None))
        return {}

    # --- website -------------------------------------------------------------------------------

    def put_bucket_website(self, ctx: CallContext, Bucket: str, WebsiteConfiguration: dict[str, Any], **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        config = WebsiteConfiguration
        if not (config.get("IndexDocument") or config.get("RedirectAllRequestsTo")):
            raise invalid_argument("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
                                   "IndexDocument", None)
        suffix = (config.get("IndexDocument") or {}).get("Suffix")
        if suffix is not None and ("/" in suffix or not suffix):
            raise invalid_argument("The IndexDocument Suffix is not well formed", "IndexDocument", suffix)
        self._update(Bucket, _set("website", config))
        return {}

    def get_bucket_website(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        config = self._bucket(Bucket).config.get("website")
        if not config:
            raise NoSuchWebsiteConfiguration(fields={"BucketName": Bucket})
        return dict(config)

    def delete_bucket_website(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        self._update(Bucket, _set("website", None))
        return {}

    def bucket_is_public(self, bucket: BucketRecord) -> bool:
        pab = bucket.config.get("pab") or {}
        acl_public = is_public(bucket.config.get("acl")) and not pab.get("IgnorePublicAcls")
        policy = bucket.config.get("policy")
        policy_public = bool(policy) and policy_is_public(json.loads(policy)) and not pab.get("RestrictPublicBuckets")
        return acl_public or policy_public
