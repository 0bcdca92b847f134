"""Managed policies (customer and AWS), their versions, attachments, inline policies and boundaries."""

from __future__ import annotations

import threading
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.iam.aws_managed import by_arn
from awsemu.services.iam.common import (
    MAX_POLICY_VERSIONS,
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    check_document,
    check_tags,
    dumps,
    encode_document,
    merge_tags,
    now,
    page,
    remove_tags,
    validate_path,
)
from awsemu.services.iam.store import IamStore, new_id

_AWS_MANAGED = by_arn()
_NAME_FIELD = {"user": "UserName", "group": "GroupName", "role": "RoleName"}
_INLINE_LIMIT = {"user": (2048, "UserPolicySize"), "group": (5120, "GroupPolicySize"), "role": (10240, "RolePolicySize")}
_ATTACH_LIMIT = {"user": "PoliciesPerUser", "group": "PoliciesPerGroup", "role": "PoliciesPerRole"}


class PoliciesMixin:
    store: IamStore
    lock: threading.RLock

    # -- lookups -------------------------------------------------------------------------------
    def _customer_policy(self, account: str, arn: str) -> dict[str, Any] | None:
        if f":{account}:policy/" not in arn:
            return None
        record = self.store.get("p", account, arn.rsplit("/", 1)[-1])
        return record if record is not None and record["Arn"] == arn else None

    def _managed(self, ctx: CallContext, arn: str) -> dict[str, Any]:
        """A policy record by ARN: a customer policy of this account, or an AWS managed one."""
        record = self._customer_policy(ctx.account_id, arn)
        if record is not None:
            return record
        if arn in _AWS_MANAGED:
            name, path, version, doc, description = _AWS_MANAGED[arn]
            return {"PolicyName": name, "PolicyId": "ANPA" + name.upper()[:17].ljust(17, "A"), "Arn": arn, "Path": path,
                    "DefaultVersionId": version, "IsAttachable": True, "Description": description,
                    "CreateDate": 1423008000.0, "UpdateDate": 1423008000.0, "Tags": [], "aws": True,
                    "versions": {version: {"Document": dumps(doc), "CreateDate": 1423008000.0}}}
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")

    def _policy_document_for_arn(self, ctx: CallContext, arn: str) -> str:
        record = self._managed(ctx, arn)
        return record["versions"][record["DefaultVersionId"]]["Document"]

    def _usage(self, account: str, arn: str) -> tuple[int, int]:
        attached = boundary = 0
        for kind in ("u", "g", "r"):
            for record in self.store.scan(kind, account):
                attached += arn in record.get("attached", [])
                boundary += record.get("boundary") == arn
        return attached, boundary

    def _policy_public(self, account: str, record: dict[str, Any], with_tags: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in record.items() if k[0].isupper() and k != "Tags"}
        out["AttachmentCount"], out["PermissionsBoundaryUsageCount"] = self._usage(account, record["Arn"])
        if with_tags and record.get("Tags"):
            out["Tags"] = record["Tags"]
        return out

    # -- managed policies -------------------------------------------------------------------------
    def create_policy(self, ctx: CallContext, PolicyName: str, PolicyDocument: str, Path: str | None = None,
                      Description: str | None = None, Tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        check_document(PolicyDocument)
        path = validate_path(Path)
        with self.lock:
            if self.store.get("p", ctx.account_id, PolicyName) is not None:
                raise EntityAlreadyExists(f"A policy called {PolicyName} already exists. Duplicate names are not allowed.")
            created = now()
            record = {"PolicyName": PolicyName, "PolicyId": new_id("ANPA"),
                      "Arn": f"arn:aws:iam::{ctx.account_id}:policy{path}{PolicyName}", "Path": path,
                      "DefaultVersionId": "v1", "IsAttachable": True, "CreateDate": created, "UpdateDate": created,
                      "Tags": check_tags(Tags), "next_version": 2,
                      "versions": {"v1": {"Document": PolicyDocument, "CreateDate": created}}}
            if Description is not None:
                record["Description"] = Description
            self.store.put("p", ctx.account_id, PolicyName, record)
        out = self._policy_public(ctx.account_id, record)
        out.pop("Description", None)  # CreatePolicy's response omits the description, as IAM's does
        return {"Policy": out}

    def get_policy(self, ctx: CallContext, PolicyArn: str) -> dict[str, Any]:
        return {"Policy": self._policy_public(ctx.account_id, self._managed(ctx, PolicyArn))}

    def list_policies(self, ctx: CallContext, Scope: str | None = None, OnlyAttached: bool | None = None,
                      PathPrefix: str | None = None, PolicyUsageFilter: str | None = None, Marker: str | None = None,
                      MaxItems: int | None = None) -> dict[str, Any]:
        scope = Scope or "All"
        records: list[dict[str, Any]] = []
        if scope in ("All", "Local"):
            records += list(self.store.scan("p", ctx.account_id))
        if scope in ("All", "AWS"):
            records += [self._managed(ctx, arn) for arn in _AWS_MANAGED]
        prefix = PathPrefix or "/"
        out = []
        for record in records:
            if not record["Path"].startswith(prefix):
                continue
            public = self._policy_public(ctx.account_id, record, with_tags=False)
            if OnlyAttached and not public["AttachmentCount"]:
                continue
            if PolicyUsageFilter == "PermissionsBoundary" and not public["PermissionsBoundaryUsageCount"]:
                continue
            if PolicyUsageFilter == "PermissionsPolicy" and not public["AttachmentCount"]:
                continue
            public.pop("Description", None)
            out.append(public)
        chosen, meta = page(out, Marker, MaxItems, lambda p: p["PolicyName"].lower() + "\x00" + p["Arn"])
        return {"Policies": chosen, **meta}

    def delete_policy(self, ctx: CallContext, PolicyArn: str) -> dict[str, Any]:
        with self.lock:
            record = self._customer_policy(ctx.account_id, PolicyArn)
            if record is None:
                if PolicyArn in _AWS_MANAGED:
                    raise InvalidInput(f"ARN {PolicyArn} is not valid.")
                raise NoSuchEntity(f"Policy {PolicyArn} was not found.")
            attached, boundary = self._usage(ctx.account_id, PolicyArn)
            if attached or boundary:
                raise DeleteConflict("Cannot delete a policy attached to entities.")
            if len(record["versions"]) > 1:
                raise DeleteConflict("This policy has more than one version. Before you delete a policy, you must "
                                     "delete the policy's versions. The default version is deleted with the policy.")
            self.store.delete("p", ctx.account_id, record["PolicyName"])
        return {}

    def tag_policy(self, ctx: CallContext, PolicyArn: str, Tags: list[dict[str, str]]) -> dict[str, Any]:
        with self.lock:
            record = self._customer_policy(ctx.account_id, PolicyArn)
            if record is None:
                raise NoSuchEntity(f"Policy {PolicyArn} was not found.")
            record["Tags"] = merge_tags(record.get("Tags", []), Tags)
            self.store.put("p", ctx.account_id, record["PolicyName"], record)
        return {}

    def untag_policy(self, ctx: CallContext, PolicyArn: str, TagKeys: list[str]) -> dict[str, Any]:
        with self.lock:
            record = self._customer_policy(ctx.account_id, PolicyArn)
            if record is None:
                raise NoSuchEntity(f"Policy {PolicyArn} was not found.")
            record["Tags"] = remove_tags(record.get("Tags", []), TagKeys)
            self.store.put("p", ctx.account_id, record["PolicyName"], record)
        return {}

    def list_policy_tags(self, ctx: CallContext, PolicyArn: str, Marker: str | None = None,
                         MaxItems: int | None = None) -> dict[str, Any]:
        tags, meta = page(self._managed(ctx, PolicyArn).get("Tags", []), Marker, MaxItems, lambda t: t["Key"])
        return {"Tags": tags, **meta}

    # -- versions ------------------------------------------------------------------------------------
    def _own_policy(self, ctx: CallContext, arn: str) -> dict[str, Any]:
        record = self._customer_policy(ctx.account_id, arn)
        if record is None:
            if arn in _AWS_MANAGED:
                raise InvalidInput(f"ARN {arn} is not valid.")  # AWS managed policies cannot be changed
            raise NoSuchEntity(f"Policy {arn} was not found.")
        return record

    @staticmethod
    def _version_public(record: dict[str, Any], version_id: str, with_document: bool = True) -> dict[str, Any]:
        version = record["versions"][version_id]
        out: dict[str, Any] = {"VersionId": version_id, "IsDefaultVersion": version_id == record["DefaultVersionId"],
                               "CreateDate": version["CreateDate"]}
        if with_document:
            out["Document"] = encode_document(version["Document"])
        return out

    def create_policy_version(self, ctx: CallContext, PolicyArn: str, PolicyDocument: str,
                              SetAsDefault: bool | None = None) -> dict[str, Any]:
        check_document(PolicyDocument)
        with self.lock:
            record = self._own_policy(ctx, PolicyArn)
            if len(record["versions"]) >= MAX_POLICY_VERSIONS:
                raise LimitExceeded("A managed policy can have up to 5 versions. Before you create a new version, "
                                    "you must delete an existing version.")
            version_id = f"v{record['next_version']}"
            record["next_version"] += 1
            record["versions"][version_id] = {"Document": PolicyDocument, "CreateDate": now()}
            if SetAsDefault:
                record["DefaultVersionId"] = version_id
            record["UpdateDate"] = now()
            self.store.put("p", ctx.account_id, record["PolicyName"], record)
        return {"PolicyVersion": self._version_public(record, version_id, with_document=False)}

    def get_policy_version(self, ctx: CallContext, PolicyArn: str, VersionId: str) -> dict[str, Any]:
        record = self._managed(ctx, PolicyArn)
        if VersionId not in record["versions"]:
            raise NoSuchEntity(f"Policy {PolicyArn} version {VersionId} does not exist or is not attachable.")
        return {"PolicyVersion": self._version_public(record, VersionId)}

    def list_policy_versions(self, ctx: CallContext, PolicyArn: str, Marker: str | None = None,
                             MaxItems: int | None = None) -> dict[str, Any]:
        record = self._managed(ctx, PolicyArn)
        ids = sorted(record["versions"], key=lambda v: -int(v[1:]))
        chosen, meta = page(ids, Marker, MaxItems, lambda v: f"{10**6 - int(v[1:]):07d}")
        return {"Versions": [self._version_public(record, v, with_document=False) for v in chosen], **meta}

    def delete_policy_version(self, ctx: CallContext, PolicyArn: str, VersionId: str) -> dict[str, Any]:
        with self.lock:
            record = self._own_policy(ctx, PolicyArn)
            if VersionId not in record["versions"]:
                raise NoSuchEntity(f"Policy {PolicyArn} version {VersionId} does not exist or is not deletable.")
            if VersionId == record["DefaultVersionId"]:
                raise DeleteConflict("Cannot delete the default version of a policy.")
            del record["versions"][VersionId]
            self.store.put("p", ctx.account_id, record["PolicyName"], record)
        return {}

    def set_default_policy_version(self, ctx: CallContext, PolicyArn: str, VersionId: str) -> dict[str, Any]:
        with self.lock:
            record = self._own_policy(ctx, PolicyArn)
            if VersionId not in record["versions"]:
                raise NoSuchEntity(f"Policy {PolicyArn} version {VersionId} does not exist or is not attachable.")
            record["DefaultVersionId"] = VersionId
            record["UpdateDate"] = now()
            self.store.put("p", ctx.account_id, record["PolicyName"], record)
        return {}

    # -- attach / detach -------------------------------------------------------------------------
    def _attach(self, kind: str, ctx: CallContext, name: str, arn: str) -> dict[str, Any]:
        with self.lock:
            record = self._entity(kind, ctx.account_id, name)  # type: ignore[attr-defined]
            self._managed(ctx, arn)
            if arn not in record["attached"]:
                if len(record["attached"]) >= 10:
                    raise LimitExceeded(f"Cannot exceed quota for {_ATTACH_LIMIT[kind]}: 10")
                record["attached"].append(arn)
                self._save(kind, ctx.account_id, record)  # type: ignore[attr-defined]
        return {}

    def _detach(self, kind: str, ctx: CallContext, name: str, arn: str) -> dict[str, Any]:
        with self.lock:
            record = self._entity(kind, ctx.account_id, name)  # type: ignore[attr-defined]
            if arn not in record["attached"]:
                raise NoSuchEntity(f"Policy {arn} was not found.")
            record["attached"].remove(arn)
            self._save(kind, ctx.account_id, record)  # type: ignore[attr-defined]
        return {}

    def _list_attached(self, kind: str, ctx: CallContext, name: str, path_prefix: str | None, marker: str | None,
                       max_items: int | None) -> dict[str, Any]:
        record = self._entity(kind, ctx.account_id, name)  # type: ignore[attr-defined]
        items = []
        for arn in record["attached"]:
            try:
                policy = self._managed(ctx, arn)
            except NoSuchEntity:
                continue
            if policy["Path"].startswith(path_prefix or "/"):
                items.append({"PolicyName": policy["PolicyName"], "PolicyArn": arn})
        chosen, meta = page(items, marker, max_items, lambda p: p["PolicyName"].lower())
        return {"AttachedPolicies": chosen, **meta}

    def attach_user_policy(self, ctx: CallContext, UserName: str, PolicyArn: str) -> dict[str, Any]:
        return self._attach("user", ctx, UserName, PolicyArn)

    def attach_group_policy(self, ctx: CallContext, GroupName: str, PolicyArn: str) -> dict[str, Any]:
        return self._attach("group", ctx, GroupName, PolicyArn)

    def attach_role_policy(self, ctx: CallContext, RoleName: str, PolicyArn: str) -> dict[str, Any]:
        return self._attach("role", ctx, RoleName, PolicyArn)

    def detach_user_policy(self, ctx: CallContext, UserName: str, PolicyArn: str) -> dict[str, Any]:
        return self._detach("user", ctx, UserName, PolicyArn)

    def detach_group_policy(self, ctx: CallContext, GroupName: str, PolicyArn: str) -> dict[str, Any]:
        return self._detach("group", ctx, GroupName, PolicyArn)

    def detach_role_policy(self, ctx: CallContext, RoleName: str, PolicyArn: str) -> dict[str, Any]:
        return self._detach("role", ctx, RoleName, PolicyArn)

    def list_attached_user_policies(self, ctx: CallContext, UserName: str, PathPrefix: str | None = None,
                                    Marker: str | None = None, MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_attached("user", ctx, UserName, PathPrefix, Marker, MaxItems)

    def list_attached_group_policies(self, ctx: CallContext, GroupName: str, PathPrefix: str | None = None,
                                     Marker: str | None = None, MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_attached("group", ctx, GroupName, PathPrefix, Marker, MaxItems)

    def list_attached_role_policies(self, ctx: CallContext, RoleName: str, PathPrefix: str | None = None,
                                    Marker: str | None = None, MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_attached("role", ctx, RoleName, PathPrefix, Marker, MaxItems)

    def list_entities_for_policy(self, ctx: CallContext, PolicyArn: str, EntityFilter: str | None = None,
                                 PathPrefix: str | None = None, PolicyUsageFilter: str | None = None,
                                 Marker: str | None = None, MaxItems: int | None = None) -> dict[str, Any]:
        self._managed(ctx, PolicyArn)
        out: dict[str, list[dict[str, Any]]] = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
        for kind, code, key in (("user", "u", "PolicyUsers"), ("group", "g", "PolicyGroups"), ("role", "r", "PolicyRoles")):
            if EntityFilter and EntityFilter not in (kind.capitalize(), "LocalManagedPolicy", "AWSManagedPolicy"):
                continue
            for record in self.store.scan(code, ctx.account_id):
                as_policy = PolicyArn in record.get("attached", [])
                as_boundary = record.get("boundary") == PolicyArn
                if PolicyUsageFilter == "PermissionsBoundary":
                    hit = as_boundary
                elif PolicyUsageFilter == "PermissionsPolicy":
                    hit = as_policy
                else:
                    hit = as_policy or as_boundary
                if hit and record["Path"].startswith(PathPrefix or "/"):
                    name = record[_NAME_FIELD[kind]]
                    out[key].append({_NAME_FIELD[kind]: name, f"{kind.capitalize()}Id": record[f"{kind.capitalize()}Id"]})
        return {**out, "IsTruncated": False}

    # -- inline policies -------------------------------------------------------------------------
    def _put_inline(self, kind: str, ctx: CallContext, name: str, policy_name: str, document: str) -> dict[str, Any]:
        limit, quota = _INLINE_LIMIT[kind]
        check_document(document, "identity", limit, quota)
        with self.lock:
            record = self._entity(kind, ctx.account_id, name)  # type: ignore[attr-defined]
            record["inline"][policy_name] = document
            self._save(kind, ctx.account_id, record)  # type: ignore[attr-defined]
        return {}

    def _get_inline(self, kind: str, ctx: CallContext, name: str, policy_name: str) -> dict[str, Any]:
        record = self._entity(kind, ctx.account_id, name)  # type: ignore[attr-defined]
        if policy_name not in record["inline"]:
            raise NoSuchEntity(f"The {kind} policy with name {policy_name} cannot be found.")
        return {_NAME_FIELD[kind]: record[_NAME_FIELD[kind]], "PolicyName": policy_name,
                "PolicyDocument": encode_document(record["inline"][policy_name])}

    def _delete_inline(self, kind: str, ctx: CallContext, name: str, policy_name: str) -> dict[str, Any]:
        with self.lock:
            record = self._entity(kind, ctx.account_id, name)  # type: ignore[attr-defined]
            if policy_name not in record["inline"]:
                raise NoSuchEntity(f"The {kind} policy with name {policy_name} cannot be found.")
            del record["inline"][policy_name]
            self._save(kind, ctx.account_id, record)  # type: ignore[attr-defined]
        return {}

    def _list_inline(self, kind: str, ctx: CallContext, name: str, marker: str | None, max_items: int | None) -> dict[str, Any]:
        record = self._entity(kind, ctx.account_id, name)  # type: ignore[attr-defined]
        chosen, meta = page(list(record["inline"]), marker, max_items, lambda n: n)
        return {"PolicyNames": chosen, **meta}

    def put_user_policy(self, ctx: CallContext, UserName: str, PolicyName: str, PolicyDocument: str) -> dict[str, Any]:
        return self._put_inline("user", ctx, UserName, PolicyName, PolicyDocument)

    def put_group_policy(self, ctx: CallContext, GroupName: str, PolicyName: str, PolicyDocument: str) -> dict[str, Any]:
        return self._put_inline("group", ctx, GroupName, PolicyName, PolicyDocument)

    def put_role_policy(self, ctx: CallContext, RoleName: str, PolicyName: str, PolicyDocument: str) -> dict[str, Any]:
        return self._put_inline("role", ctx, RoleName, PolicyName, PolicyDocument)

    def get_user_policy(self, ctx: CallContext, UserName: str, PolicyName: str) -> dict[str, Any]:
        return self._get_inline("user", ctx, UserName, PolicyName)

    def get_group_policy(self, ctx: CallContext, GroupName: str, PolicyName: str) -> dict[str, Any]:
        return self._get_inline("group", ctx, GroupName, PolicyName)

    def get_role_policy(self, ctx: CallContext, RoleName: str, PolicyName: str) -> dict[str, Any]:
        return self._get_inline("role", ctx, RoleName, PolicyName)

    def delete_user_policy(self, ctx: CallContext, UserName: str, PolicyName: str) -> dict[str, Any]:
        return self._delete_inline("user", ctx, UserName, PolicyName)

    def delete_group_policy(self, ctx: CallContext, GroupName: str, PolicyName: str) -> dict[str, Any]:
        return self._delete_inline("group", ctx, GroupName, PolicyName)

    def delete_role_policy(self, ctx: CallContext, RoleName: str, PolicyName: str) -> dict[str, Any]:
        return self._delete_inline("role", ctx, RoleName, PolicyName)

    def list_user_policies(self, ctx: CallContext, UserName: str, Marker: str | None = None,
                           MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_inline("user", ctx, UserName, Marker, MaxItems)

    def list_group_policies(self, ctx: CallContext, GroupName: str, Marker: str | None = None,
                            MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_inline("group", ctx, GroupName, Marker, MaxItems)

    def list_role_policies(self, ctx: CallContext, RoleName: str, Marker: str | None = None,
                           MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_inline("role", ctx, RoleName, Marker, MaxItems)

    # -- permissions boundaries -------------------------------------------------------------------
    def _set_boundary(self, kind: str, ctx: CallContext, name: str, arn: str | None) -> dict[str, Any]:
        with self.lock:
            record = self._entity(kind, ctx.account_id, name)  # type: ignore[attr-defined]
            if arn is not None:
                self._managed(ctx, arn)
                record["boundary"] = arn
            else:
                if not record.get("boundary"):
                    raise NoSuchEntity(f"The {kind} with name {name} has no permissions boundary.")
                record.pop("boundary", None)
            self._save(kind, ctx.account_id, record)  # type: ignore[attr-defined]
        return {}

    def put_user_permissions_boundary(self, ctx: CallContext, UserName: str, PermissionsBoundary: str) -> dict[str, Any]:
        return self._set_boundary("user", ctx, UserName, PermissionsBoundary)

    def put_role_permissions_boundary(self, ctx: CallContext, RoleName: str, PermissionsBoundary: str) -> dict[str, Any]:
        return self._set_boundary("role", ctx, RoleName, PermissionsBoundary)

    def delete_user_permissions_boundary(self, ctx: CallContext, UserName: str) -> dict[str, Any]:
        return self._set_boundary("user", ctx, UserName, None)

    def delete_role_permissions_boundary(self, ctx: CallContext, RoleName: str) -> dict[str, Any]:
        return self._set_boundary("role", ctx, RoleName, None)
