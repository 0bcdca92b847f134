"""Code signing configurations (Create/Get/Update/Delete/ListCodeSigningConfigs,
Put/Get/DeleteFunctionCodeSigningConfig, ListFunctionsByCodeSigningConfig), mixed into LambdaProvider.

A configuration is an account resource::

    ("lambda", "csc", acct, region, "csc-<17 hex>") -> {"Id", "Description", "AllowedPublishers",
                                                        "CodeSigningPolicies", "LastModified", "Tags"}

and a function names the one it uses in its meta record (``settings["code_signing"]``, its ARN), so
deleting the function drops the link; a configuration in use by a function cannot be deleted
(ResourceConflictException), as Lambda's documentation says.

Stored and validated only. Lambda checks a deployment package's signature against AWS Signer's
signing profiles (UntrustedArtifactOnDeployment Warn/Enforce) when code is deployed; awsemu has no
Signer, so no package is ever rejected or warned about. CreateFunction's CodeSigningConfigArn
attaches the configuration as PutFunctionCodeSigningConfig does (``_require_csc``: a missing one is
CodeSigningConfigNotFoundException and no function is created). As in Lambda, GetFunction does not
name it (its Configuration only carries SigningProfileVersionArn/SigningJobArn of a package Signer
signed, which never happens here): GetFunctionCodeSigningConfig and ListFunctionsByCodeSigningConfig do.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_.checks import marker, page_size, unmarker
from awsemu.services.lambda_.errors import (
    CodeSigningConfigNotFoundException,
    ResourceConflictException,
    ResourceNotFoundException,
    validation,
)
from awsemu.services.lambda_.functions import FunctionStore, now_lambda
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.storage.lsm.keycodec import encode, prefix_end

CSC_ARN = re.compile(
    r"^arn:(aws[a-zA-Z-]*)?:lambda:(?P<region>(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}):"
    r"(?P<account>\d{12}):code-signing-config:(?P<id>csc-[a-z0-9]{17})$"
)
CSC_ARN_CONSTRAINT = (
    r"Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|"
    r"(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:code-signing-config:csc-[a-z0-9]{17}"
)
PROFILE_ARN = re.compile(
    r"^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)$"
)
POLICY_VALUES = ("Warn", "Enforce")


def csc_key(account: str, region: str, csc_id: str) -> bytes:
    return encode("lambda", "csc", account, region, csc_id)


def _check_publishers(publishers: Any, member: str) -> dict[str, list[str]]:
    arns = list((publishers or {}).get("SigningProfileVersionArns") or [])
    if not 1 <= len(arns) <= 20:
        raise validation(arns, f"{member}.signingProfileVersionArns",
                         "Member must have length less than or equal to 20" if arns
                         else "Member must have length greater than or equal to 1")
    for arn in arns:
        if not PROFILE_ARN.match(arn or "") or len(arn) > 10000:
            raise validation(arn, f"{member}.signingProfileVersionArns.member",
                             "Member must satisfy regular expression pattern: "
                             r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?"
                             r"-[a-z]+-\d{1})?:(\d{12})?:(.*)")
    return {"SigningProfileVersionArns": arns}


def _check_policies(policies: Any) -> dict[str, str]:
    value = (policies or {}).get("UntrustedArtifactOnDeployment") or "Warn"
    if value not in POLICY_VALUES:
        raise validation(value, "codeSigningPolicies.untrustedArtifactOnDeployment",
                         "Member must satisfy enum value set: [Warn, Enforce]")
    return {"UntrustedArtifactOnDeployment": value}


def _check_description(description: str | None) -> None:
    if description is not None and len(description) > 256:
        raise validation(description, "description", "Member must have length less than or equal to 256")


class CodeSigningOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock`` and the name helpers of ProviderParts."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock

    # -- records -----------------------------------------------------------------------------
    @staticmethod
    def _csc_output(account: str, region: str, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "CodeSigningConfigId": record["Id"],
            "CodeSigningConfigArn": f"arn:aws:lambda:{region}:{account}:code-signing-config:{record['Id']}",
            "Description": record["Description"],
            "AllowedPublishers": record["AllowedPublishers"],
            "CodeSigningPolicies": record["CodeSigningPolicies"],
            "LastModified": record["LastModified"],
        }

    def _csc(self, arn: str) -> tuple[str, str, dict[str, Any]]:
        """(account, region, record) of a configuration ARN; ResourceNotFoundException if missing."""
        match = CSC_ARN.match(arn or "")
        if match is None:
            raise validation(arn, "codeSigningConfigArn", CSC_ARN_CONSTRAINT)
        raw = self.db.get(csc_key(match["account"], match["region"], match["id"]))
        if raw is None:
            raise ResourceNotFoundException(f"The Lambda code signing configuration {arn} can not be found.")
        return match["account"], match["region"], json.loads(raw)

    def _functions_using(self, account: str, region: str, arn: str) -> list[str]:
        return [fx.function_arn(region, account, meta.name) for meta in self.store.all_metas(account, region)
                if meta.settings.get("code_signing") == arn]

    # -- configurations ----------------------------------------------------------------------
    def create_code_signing_config(self, ctx: CallContext, AllowedPublishers: dict[str, Any],
                                   Description: str | None = None,
                                   CodeSigningPolicies: dict[str, Any] | None = None,
                                   Tags: dict[str, str] | None = None) -> dict[str, Any]:
        _check_description(Description)
        record = {
            "Id": "csc-" + secrets.token_hex(9)[:17],
            "Description": Description or "",
            "AllowedPublishers": _check_publishers(AllowedPublishers, "allowedPublishers"),
            "CodeSigningPolicies": _check_policies(CodeSigningPolicies),
            "LastModified": now_lambda(),
            "Tags": dict(Tags or {}),
        }
        self.db.put(csc_key(ctx.account_id, ctx.region, record["Id"]), json.dumps(record).encode())
        return {"CodeSigningConfig": self._csc_output(ctx.account_id, ctx.region, record)}

    def get_code_signing_config(self, ctx: CallContext, CodeSigningConfigArn: str) -> dict[str, Any]:
        account, region, record = self._csc(CodeSigningConfigArn)
        return {"CodeSigningConfig": self._csc_output(account, region, record)}

    def update_code_signing_config(self, ctx: CallContext, CodeSigningConfigArn: str, Description: str | None = None,
                                   AllowedPublishers: dict[str, Any] | None = None,
                                   CodeSigningPolicies: dict[str, Any] | None = None) -> dict[str, Any]:
        _check_description(Description)
        with self._lock:
            account, region, record = self._csc(CodeSigningConfigArn)
            if Description is not None:
                record["Description"] = Description
            if AllowedPublishers is not None:
                record["AllowedPublishers"] = _check_publishers(AllowedPublishers, "allowedPublishers")
            if CodeSigningPolicies is not None:
                record["CodeSigningPolicies"] = _check_policies(CodeSigningPolicies)
            record["LastModified"] = now_lambda()
            self.db.put(csc_key(account, region, record["Id"]), json.dumps(record).encode())
        return {"CodeSigningConfig": self._csc_output(account, region, record)}

    def delete_code_signing_config(self, ctx: CallContext, CodeSigningConfigArn: str) -> dict[str, Any]:
        with self._lock:
            account, region, record = self._csc(CodeSigningConfigArn)
            users = self._functions_using(account, region, CodeSigningConfigArn)
            if users:
                raise ResourceConflictException(
                    f"The code signing configuration {CodeSigningConfigArn} cannot be deleted because it is used "
                    f"by the following functions: {', '.join(users)}"
                )
            self.db.delete(csc_key(account, region, record["Id"]))
        return {}

    def list_code_signing_configs(self, ctx: CallContext, Marker: str | None = None,
                                  MaxItems: int | None = None) -> dict[str, Any]:
        size = page_size(MaxItems)
        after = unmarker(Marker)
        start = csc_key(ctx.account_id, ctx.region, after) + b"\x00" if after else encode(
            "lambda", "csc", ctx.account_id, ctx.region)
        end = prefix_end(encode("lambda", "csc", ctx.account_id, ctx.region))
        records = [json.loads(raw) for _, raw in self.db.scan(start, end, limit=size + 1)]
        out: dict[str, Any] = {"CodeSigningConfigs": [
            self._csc_output(ctx.account_id, ctx.region, r) for r in records[:size]]}
        if len(records) > size:
            out["NextMarker"] = marker(records[size - 1]["Id"])
        return out

    def list_functions_by_code_signing_config(self, ctx: CallContext, CodeSigningConfigArn: str,
                                              Marker: str | None = None, MaxItems: int | None = None) -> dict[str, Any]:
        size = page_size(MaxItems)
        after = unmarker(Marker)
        account, region, _ = self._csc(CodeSigningConfigArn)
        arns = [a for a in self._functions_using(account, region, CodeSigningConfigArn) if after is None or a > after]
        out: dict[str, Any] = {"FunctionArns": arns[:size]}
        if len(arns) > size:
            out["NextMarker"] = marker(arns[size - 1])
        return out

    # -- a function's configuration ----------------------------------------------------------
    def _require_csc(self, arn: str) -> None:
        """A configuration a function is to use: CodeSigningConfigNotFoundException when it does not exist."""
        try:
            self._csc(arn)
        except ResourceNotFoundException:
            raise CodeSigningConfigNotFoundException(
                "The code signing configuration cannot be found. Check that the provided configuration is not "
                f"deleted: {arn}."
            ) from None

    def put_function_code_signing_config(self, ctx: CallContext, CodeSigningConfigArn: str,
                                         FunctionName: str) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        with self._lock:
            self._require_csc(CodeSigningConfigArn)
            meta = self.store.require_meta(*fn)
            meta.settings["code_signing"] = CodeSigningConfigArn
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {"CodeSigningConfigArn": CodeSigningConfigArn, "FunctionName": fn[2]}

    def get_function_code_signing_config(self, ctx: CallContext, FunctionName: str) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        meta = self.store.require_meta(*fn)
        return {"CodeSigningConfigArn": meta.settings.get("code_signing", ""), "FunctionName": fn[2]}

    def delete_function_code_signing_config(self, ctx: CallContext, FunctionName: str) -> dict[str, Any]:
        fn = self._unqualified(ctx, FunctionName)
        with self._lock:
            meta = self.store.require_meta(*fn)
            if meta.settings.pop("code_signing", None) is not None:
                self.db.put(fx.meta_key(*fn), meta.to_bytes())
                self._invalidate(fn)
        return {}
