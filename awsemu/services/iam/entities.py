"""IAM users, groups, roles, access keys, login profiles, tags and account aliases."""

from __future__ import annotations

import threading
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.iam.common import (
    MAX_ACCESS_KEYS,
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
    check_document,
    check_tags,
    encode_document,
    merge_tags,
    now,
    page,
    remove_tags,
    validate_path,
)
from awsemu.services.iam.store import IamStore, new_id, new_secret

KINDS = {"user": "u", "group": "g", "role": "r"}
ID_PREFIX = {"user": "AIDA", "group": "AGPA", "role": "AROA"}


class EntitiesMixin:
    store: IamStore
    lock: threading.RLock

    # -- shared lookups ----------------------------------------------------------------------
    def _entity(self, kind: str, account: str, name: str) -> dict[str, Any]:
        record = self.store.get(KINDS[kind], account, name)
        if record is None:
            raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
        return record

    def _save(self, kind: str, account: str, record: dict[str, Any]) -> None:
        name = record[{"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]]
        self.store.put(KINDS[kind], account, name, record)

    def _create(self, kind: str, ctx: CallContext, name: str, path: str | None, extra: dict[str, Any]) -> dict[str, Any]:
        field = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
        with self.lock:
            if self.store.get(KINDS[kind], ctx.account_id, name) is not None:
                label = {"user": "User", "group": "Group", "role": "Role"}[kind]
                raise EntityAlreadyExists(f"{label} with name {name} already exists.")
            path = validate_path(path)
            record: dict[str, Any] = {
                "Path": path, field: name, f"{kind.capitalize()}Id": new_id(ID_PREFIX[kind]),
                "Arn": f"arn:aws:iam::{ctx.account_id}:{kind}{path}{name}", "CreateDate": now(),
                "inline": {}, "attached": [], **extra,
            }
            self._save(kind, ctx.account_id, record)
        return record

    @staticmethod
    def _public(record: dict[str, Any], with_tags: bool = True) -> dict[str, Any]:
        out = {k: v for k, v in record.items() if k[0].isupper() and k != "Tags"}
        if with_tags and record.get("Tags"):
            out["Tags"] = record["Tags"]
        if "AssumeRolePolicyDocument" in out:
            out["AssumeRolePolicyDocument"] = encode_document(out["AssumeRolePolicyDocument"])
        if record.get("boundary"):
            out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                          "PermissionsBoundaryArn": record["boundary"]}
        return out

    def _list(self, kind: str, ctx: CallContext, path_prefix: str | None, marker: str | None,
              max_items: int | None, key: str, with_tags: bool = False) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        prefix = path_prefix or "/"
        items = [r for r in self.store.scan(KINDS[kind], ctx.account_id) if r["Path"].startswith(prefix)]
        chosen, meta = page(items, marker, max_items, lambda r: r[key].lower())
        return [self._public(r, with_tags) for r in chosen], meta

    # -- users -------------------------------------------------------------------------------
    def create_user(self, ctx: CallContext, UserName: str, Path: str | None = None,
                    PermissionsBoundary: str | None = None, Tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        extra: dict[str, Any] = {"groups": [], "Tags": check_tags(Tags)}
        if PermissionsBoundary:
            self._policy_document_for_arn(ctx, PermissionsBoundary)  # type: ignore[attr-defined]
            extra["boundary"] = PermissionsBoundary
        record = self._create("user", ctx, UserName, Path, extra)
        return {"User": self._public(record)}

    def get_user(self, ctx: CallContext, UserName: str | None = None) -> dict[str, Any]:
        if UserName is None:
            if ":user/" in ctx.principal_arn:
                UserName = ctx.principal_arn.rsplit("/", 1)[1]
            else:
                return {"User": {"UserId": ctx.account_id, "Arn": ctx.principal_arn or f"arn:aws:iam::{ctx.account_id}:root",
                                 "CreateDate": 0.0, "Path": "/", "UserName": ""}}
        return {"User": self._public(self._entity("user", ctx.account_id, UserName))}

    def list_users(self, ctx: CallContext, PathPrefix: str | None = None, Marker: str | None = None,
                   MaxItems: int | None = None) -> dict[str, Any]:
        users, meta = self._list("user", ctx, PathPrefix, Marker, MaxItems, "UserName")
        return {"Users": users, **meta}

    def update_user(self, ctx: CallContext, UserName: str, NewPath: str | None = None,
                    NewUserName: str | None = None) -> dict[str, Any]:
        with self.lock:
            record = self._entity("user", ctx.account_id, UserName)
            if NewUserName and NewUserName.lower() != UserName.lower():
                if self.store.get("u", ctx.account_id, NewUserName) is not None:
                    raise EntityAlreadyExists(f"User with name {NewUserName} already exists.")
            self.store.delete("u", ctx.account_id, UserName)
            record["UserName"] = NewUserName or record["UserName"]
            record["Path"] = validate_path(NewPath) if NewPath else record["Path"]
            record["Arn"] = f"arn:aws:iam::{ctx.account_id}:user{record['Path']}{record['UserName']}"
            self._save("user", ctx.account_id, record)
            for group_name in record.get("groups", []):
                group = self.store.get("g", ctx.account_id, group_name)
                if group is not None:
                    group["members"] = [record["UserName"] if m.lower() == UserName.lower() else m for m in group["members"]]
                    self._save("group", ctx.account_id, group)
            for key in self.store.scan_keys("k"):
                if key["account"] == ctx.account_id and key["UserName"].lower() == UserName.lower():
                    key["UserName"] = record["UserName"]
                    self.store.put_key("k", key["AccessKeyId"], key)
            for serial in record.get("mfa", []):  # the enabled MFA devices name their user
                device = self.store.get("mfa", ctx.account_id, serial)
                if device is not None:
                    device["user"] = record["UserName"]
                    self.store.put("mfa", ctx.account_id, serial, device)
        return {}

    def delete_user(self, ctx: CallContext, UserName: str) -> dict[str, Any]:
        with self.lock:
            record = self._entity("user", ctx.account_id, UserName)
            if record["inline"]:
                raise DeleteConflict("Cannot delete entity, must delete policies first.")
            if record["attached"]:
                raise DeleteConflict("Cannot delete entity, must detach all policies first.")
            if record.get("groups"):
                raise DeleteConflict("Cannot delete entity, must remove users from group first.")
            if self._user_keys(ctx.account_id, UserName):
                raise DeleteConflict("Cannot delete entity, must delete access keys first.")
            if record.get("login_profile"):
                raise DeleteConflict("Cannot delete entity, must delete login profile first.")
            for field, what in (("mfa", "MFA device"), ("signing_certs", "signing certificates"),
                                ("ssh_keys", "SSH public keys"), ("service_creds", "service specific credentials")):
                if record.get(field):
                    raise DeleteConflict(f"Cannot delete entity, must delete {what} first.")
            self.store.delete("u", ctx.account_id, UserName)
        return {}

    # -- groups ------------------------------------------------------------------------------
    def create_group(self, ctx: CallContext, GroupName: str, Path: str | None = None) -> dict[str, Any]:
        record = self._create("group", ctx, GroupName, Path, {"members": []})
        return {"Group": self._public(record)}

    def get_group(self, ctx: CallContext, GroupName: str, Marker: str | None = None,
                  MaxItems: int | None = None) -> dict[str, Any]:
        group = self._entity("group", ctx.account_id, GroupName)
        users = [u for u in (self.store.get("u", ctx.account_id, m) for m in group["members"]) if u]
        chosen, meta = page(users, Marker, MaxItems, lambda r: r["UserName"].lower())
        return {"Group": self._public(group), "Users": [self._public(u, False) for u in chosen], **meta}

    def list_groups(self, ctx: CallContext, PathPrefix: str | None = None, Marker: str | None = None,
                    MaxItems: int | None = None) -> dict[str, Any]:
        groups, meta = self._list("group", ctx, PathPrefix, Marker, MaxItems, "GroupName")
        return {"Groups": groups, **meta}

    def update_group(self, ctx: CallContext, GroupName: str, NewPath: str | None = None,
                     NewGroupName: str | None = None) -> dict[str, Any]:
        with self.lock:
            group = self._entity("group", ctx.account_id, GroupName)
            if NewGroupName and NewGroupName.lower() != GroupName.lower() and \
                    self.store.get("g", ctx.account_id, NewGroupName) is not None:
                raise EntityAlreadyExists(f"Group with name {NewGroupName} already exists.")
            self.store.delete("g", ctx.account_id, GroupName)
            group["GroupName"] = NewGroupName or group["GroupName"]
            group["Path"] = validate_path(NewPath) if NewPath else group["Path"]
            group["Arn"] = f"arn:aws:iam::{ctx.account_id}:group{group['Path']}{group['GroupName']}"
            self._save("group", ctx.account_id, group)
            for member in group["members"]:
                user = self.store.get("u", ctx.account_id, member)
                if user:
                    user["groups"] = [group["GroupName"] if g.lower() == GroupName.lower() else g for g in user["groups"]]
                    self._save("user", ctx.account_id, user)
        return {}

    def delete_group(self, ctx: CallContext, GroupName: str) -> dict[str, Any]:
        with self.lock:
            group = self._entity("group", ctx.account_id, GroupName)
            if group["members"]:
                raise DeleteConflict("Cannot delete entity, must remove users from group first.")
            if group["inline"]:
                raise DeleteConflict("Cannot delete entity, must delete policies first.")
            if group["attached"]:
                raise DeleteConflict("Cannot delete entity, must detach all policies first.")
            self.store.delete("g", ctx.account_id, GroupName)
        return {}

    def add_user_to_group(self, ctx: CallContext, GroupName: str, UserName: str) -> dict[str, Any]:
        with self.lock:
            group = self._entity("group", ctx.account_id, GroupName)
            user = self._entity("user", ctx.account_id, UserName)
            if user["UserName"] not in group["members"]:
                group["members"].append(user["UserName"])
                user["groups"].append(group["GroupName"])
                self._save("group", ctx.account_id, group)
                self._save("user", ctx.account_id, user)
        return {}

    def remove_user_from_group(self, ctx: CallContext, GroupName: str, UserName: str) -> dict[str, Any]:
        with self.lock:
            group = self._entity("group", ctx.account_id, GroupName)
            user = self._entity("user", ctx.account_id, UserName)
            if user["UserName"] not in group["members"]:
                raise NoSuchEntity(f"The user with name {UserName} cannot be found.")
            group["members"].remove(user["UserName"])
            user["groups"] = [g for g in user["groups"] if g.lower() != GroupName.lower()]
            self._save("group", ctx.account_id, group)
            self._save("user", ctx.account_id, user)
        return {}

    def list_groups_for_user(self, ctx: CallContext, UserName: str, Marker: str | None = None,
                             MaxItems: int | None = None) -> dict[str, Any]:
        user = self._entity("user", ctx.account_id, UserName)
        groups = [g for g in (self.store.get("g", ctx.account_id, n) for n in user["groups"]) if g]
        chosen, meta = page(groups, Marker, MaxItems, lambda r: r["GroupName"].lower())
        return {"Groups": [self._public(g) for g in chosen], **meta}

    # -- roles -------------------------------------------------------------------------------
    def create_role(self, ctx: CallContext, RoleName: str, AssumeRolePolicyDocument: str, Path: str | None = None,
                    Description: str | None = None, MaxSessionDuration: int | None = None,
                    PermissionsBoundary: str | None = None, Tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        check_document(AssumeRolePolicyDocument, "trust", 2048, "ACLSizePerRole")
        duration = MaxSessionDuration or 3600
        if not 3600 <= duration <= 43200:
            raise ValidationError(f"1 validation error detected: Value '{duration}' at 'maxSessionDuration' failed to "
                                  "satisfy constraint: Member must have value greater than or equal to 3600")
        extra: dict[str, Any] = {"AssumeRolePolicyDocument": AssumeRolePolicyDocument, "MaxSessionDuration": duration,
                                 "Tags": check_tags(Tags), "RoleLastUsed": {}}
        if Description is not None:
            extra["Description"] = Description
        if PermissionsBoundary:
            self._policy_document_for_arn(ctx, PermissionsBoundary)  # type: ignore[attr-defined]
            extra["boundary"] = PermissionsBoundary
        record = self._create("role", ctx, RoleName, Path, extra)
        return {"Role": self._public(record)}

    def get_role(self, ctx: CallContext, RoleName: str) -> dict[str, Any]:
        return {"Role": self._public(self._entity("role", ctx.account_id, RoleName))}

    def list_roles(self, ctx: CallContext, PathPrefix: str | None = None, Marker: str | None = None,
                   MaxItems: int | None = None) -> dict[str, Any]:
        roles, meta = self._list("role", ctx, PathPrefix, Marker, MaxItems, "RoleName")
        return {"Roles": roles, **meta}

    def update_role(self, ctx: CallContext, RoleName: str, Description: str | None = None,
                    MaxSessionDuration: int | None = None) -> dict[str, Any]:
        with self.lock:
            role = self._entity("role", ctx.account_id, RoleName)
            if Description is not None:
                role["Description"] = Description
            if MaxSessionDuration is not None:
                if not 3600 <= MaxSessionDuration <= 43200:
                    raise ValidationError("Max session duration must be between 1 and 12 hours.")
                role["MaxSessionDuration"] = MaxSessionDuration
            self._save("role", ctx.account_id, role)
        return {}

    def update_role_description(self, ctx: CallContext, RoleName: str, Description: str) -> dict[str, Any]:
        self.update_role(ctx, RoleName, Description=Description)
        return {"Role": self._public(self._entity("role", ctx.account_id, RoleName))}

    def update_assume_role_policy(self, ctx: CallContext, RoleName: str, PolicyDocument: str) -> dict[str, Any]:
        check_document(PolicyDocument, "trust", 2048, "ACLSizePerRole")
        with self.lock:
            role = self._entity("role", ctx.account_id, RoleName)
            role["AssumeRolePolicyDocument"] = PolicyDocument
            self._save("role", ctx.account_id, role)
        return {}

    def delete_role(self, ctx: CallContext, RoleName: str) -> dict[str, Any]:
        with self.lock:
            role = self._entity("role", ctx.account_id, RoleName)
            if role["inline"]:
                raise DeleteConflict("Cannot delete entity, must delete policies first.")
            if role["attached"]:
                raise DeleteConflict("Cannot delete entity, must detach all policies first.")
            if any(RoleName.lower() in [r.lower() for r in p.get("roles", [])] for p in self.store.scan("ip", ctx.account_id)):
                raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
            self.store.delete("r", ctx.account_id, RoleName)
        return {}

    # -- tags --------------------------------------------------------------------------------
    def _tag(self, kind: str, ctx: CallContext, name: str, add: list[dict[str, str]] | None = None,
             remove: list[str] | None = None) -> dict[str, Any]:
        with self.lock:
            record = self._entity(kind, ctx.account_id, name)
            tags = record.get("Tags", [])
            record["Tags"] = merge_tags(tags, add) if add is not None else remove_tags(tags, remove or [])
            self._save(kind, ctx.account_id, record)
        return {}

    def tag_user(self, ctx: CallContext, UserName: str, Tags: list[dict[str, str]]) -> dict[str, Any]:
        return self._tag("user", ctx, UserName, add=Tags)

    def untag_user(self, ctx: CallContext, UserName: str, TagKeys: list[str]) -> dict[str, Any]:
        return self._tag("user", ctx, UserName, remove=TagKeys)

    def list_user_tags(self, ctx: CallContext, UserName: str, Marker: str | None = None,
                       MaxItems: int | None = None) -> dict[str, Any]:
        tags, meta = page(self._entity("user", ctx.account_id, UserName).get("Tags", []), Marker, MaxItems,
                          lambda t: t["Key"])
        return {"Tags": tags, **meta}

    def tag_role(self, ctx: CallContext, RoleName: str, Tags: list[dict[str, str]]) -> dict[str, Any]:
        return self._tag("role", ctx, RoleName, add=Tags)

    def untag_role(self, ctx: CallContext, RoleName: str, TagKeys: list[str]) -> dict[str, Any]:
        return self._tag("role", ctx, RoleName, remove=TagKeys)

    def list_role_tags(self, ctx: CallContext, RoleName: str, Marker: str | None = None,
                       MaxItems: int | None = None) -> dict[str, Any]:
        tags, meta = page(self._entity("role", ctx.account_id, RoleName).get("Tags", []), Marker, MaxItems,
                          lambda t: t["Key"])
        return {"Tags": tags, **meta}

    # -- access keys ---------------------------------------------------------------------------
    def _user_keys(self, account: str, user_name: str) -> list[dict[str, Any]]:
        return [k for k in self.store.scan_keys("k")
                if k["account"] == account and k["UserName"].lower() == user_name.lower()]

    def _caller_user(self, ctx: CallContext, user_name: str | None) -> str | None:
        if user_name:
            return user_name
        if ":user/" in ctx.principal_arn:
            return ctx.principal_arn.rsplit("/", 1)[1]
        return None

    def create_access_key(self, ctx: CallContext, UserName: str | None = None) -> dict[str, Any]:
        name = self._caller_user(ctx, UserName)
        if name is None:
            raise ValidationError("Root access keys are configured with AWSEMU_ROOT_KEYS, not created through IAM.")
        with self.lock:
            user = self._entity("user", ctx.account_id, name)
            if len(self._user_keys(ctx.account_id, name)) >= MAX_ACCESS_KEYS:
                raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}")
            key_id = new_id("AKIA", 20)
            record = {"AccessKeyId": key_id, "SecretAccessKey": new_secret(), "UserName": user["UserName"],
                      "Status": "Active", "CreateDate": now(), "account": ctx.account_id, "last_used": None}
            self.store.put_key("k", key_id, record)
        return {"AccessKey": {k: record[k] for k in ("UserName", "AccessKeyId", "Status", "SecretAccessKey", "CreateDate")}}

    def list_access_keys(self, ctx: CallContext, UserName: str | None = None, Marker: str | None = None,
                         MaxItems: int | None = None) -> dict[str, Any]:
        name = self._caller_user(ctx, UserName)
        if name is None:
            return {"AccessKeyMetadata": [], "IsTruncated": False}
        self._entity("user", ctx.account_id, name)
        keys, meta = page(self._user_keys(ctx.account_id, name), Marker, MaxItems, lambda k: k["AccessKeyId"])
        return {"AccessKeyMetadata": [{k: r[k] for k in ("UserName", "AccessKeyId", "Status", "CreateDate")} for r in keys],
                **meta}

    def _own_key(self, ctx: CallContext, key_id: str, user_name: str | None) -> dict[str, Any]:
        record = self.store.get_key("k", key_id)
        name = self._caller_user(ctx, user_name)
        if name is not None:
            self._entity("user", ctx.account_id, name)
        if record is None or record["account"] != ctx.account_id or (name and record["UserName"].lower() != name.lower()):
            raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
        return record

    def update_access_key(self, ctx: CallContext, AccessKeyId: str, Status: str, UserName: str | None = None) -> dict[str, Any]:
        if Status not in ("Active", "Inactive"):
            raise ValidationError(f"1 validation error detected: Value '{Status}' at 'status' failed to satisfy "
                                  "constraint: Member must satisfy enum value set: [Active, Inactive]")
        with self.lock:
            record = self._own_key(ctx, AccessKeyId, UserName)
            record["Status"] = Status
            self.store.put_key("k", AccessKeyId, record)
        return {}

    def delete_access_key(self, ctx: CallContext, AccessKeyId: str, UserName: str | None = None) -> dict[str, Any]:
        with self.lock:
            self._own_key(ctx, AccessKeyId, UserName)
            self.store.delete_key("k", AccessKeyId)
        return {}

    def get_access_key_last_used(self, ctx: CallContext, AccessKeyId: str) -> dict[str, Any]:
        record = self.store.get_key("k", AccessKeyId)
        if record is None or record["account"] != ctx.account_id:
            raise NoSuchEntity(f"The Access Key with id {AccessKeyId} cannot be found.")
        used = record.get("last_used")
        info: dict[str, Any] = {"ServiceName": "N/A", "Region": "N/A"}
        if used:
            info = {"LastUsedDate": used["date"], "ServiceName": used["service"], "Region": used["region"]}
        return {"UserName": record["UserName"], "AccessKeyLastUsed": info}

    def note_key_used(self, key_id: str, service: str, region: str) -> None:
        """Called by the auth layer after a successful verification; the store is touched at most
        once a minute per key and service (an in-memory note keeps the per-request cost a dict read)."""
        noted = self.__dict__.setdefault("_key_notes", {})
        last = noted.get((key_id, service))
        if last is not None and now() - last < 60:
            return
        noted[(key_id, service)] = now()
        # Under the lock: a read-modify-write racing UpdateAccessKey would write the old status back.
        with self.lock:
            record = self.store.get_key("k", key_id)
            if record is None:
                return
            last = record.get("last_used")
            if last and now() - last["date"] < 60 and last["service"] == service:
                return
            record["last_used"] = {"date": now(), "service": service, "region": region}
            # Not a change the auth caches derive from: written without moving the store's generation.
            self.store.note_key("k", key_id, record)

    # -- login profiles ----------------------------------------------------------------------
    def create_login_profile(self, ctx: CallContext, UserName: str | None = None, Password: str | None = None,
                             PasswordResetRequired: bool | None = None) -> dict[str, Any]:
        name = self._caller_user(ctx, UserName) or ""
        with self.lock:
            user = self._entity("user", ctx.account_id, name)
            if user.get("login_profile"):
                raise EntityAlreadyExists(f"Login Profile for user {name} already exists.")
            user["login_profile"] = {"UserName": user["UserName"], "CreateDate": now(),
                                     "PasswordResetRequired": bool(PasswordResetRequired)}
            self._save("user", ctx.account_id, user)
        return {"LoginProfile": user["login_profile"]}

    def get_login_profile(self, ctx: CallContext, UserName: str | None = None) -> dict[str, Any]:
        name = self._caller_user(ctx, UserName) or ""
        user = self._entity("user", ctx.account_id, name)
        if not user.get("login_profile"):
            raise NoSuchEntity(f"Login Profile for User {name} cannot be found.")
        return {"LoginProfile": user["login_profile"]}

    def update_login_profile(self, ctx: CallContext, UserName: str, Password: str | None = None,
                             PasswordResetRequired: bool | None = None) -> dict[str, Any]:
        with self.lock:
            user = self._entity("user", ctx.account_id, UserName)
            if not user.get("login_profile"):
                raise NoSuchEntity(f"Login Profile for User {UserName} cannot be found.")
            if PasswordResetRequired is not None:
                user["login_profile"]["PasswordResetRequired"] = PasswordResetRequired
            self._save("user", ctx.account_id, user)
        return {}

    def delete_login_profile(self, ctx: CallContext, UserName: str | None = None) -> dict[str, Any]:
        name = self._caller_user(ctx, UserName) or ""
        with self.lock:
            user = self._entity("user", ctx.account_id, name)
            if not user.get("login_profile"):
                raise NoSuchEntity(f"Login Profile for User {name} cannot be found.")
            user.pop("login_profile")
            self._save("user", ctx.account_id, user)
        return {}

    # -- account alias -------------------------------------------------------------------------
    def create_account_alias(self, ctx: CallContext, AccountAlias: str) -> dict[str, Any]:
        current = self.store.get("a", ctx.account_id, "alias")
        if current and current["alias"] != AccountAlias:
            raise LimitExceeded("Cannot exceed quota for AccountAliasesPerAccount: 1")
        self.store.put("a", ctx.account_id, "alias", {"alias": AccountAlias})
        return {}

    def delete_account_alias(self, ctx: CallContext, AccountAlias: str) -> dict[str, Any]:
        current = self.store.get("a", ctx.account_id, "alias")
        if not current or current["alias"] != AccountAlias:
            raise NoSuchEntity(f"The account alias {AccountAlias} cannot be found.")
        self.store.delete("a", ctx.account_id, "alias")
        return {}

    def list_account_aliases(self, ctx: CallContext, Marker: str | None = None, MaxItems: int | None = None) -> dict[str, Any]:
        current = self.store.get("a", ctx.account_id, "alias")
        return {"AccountAliases": [current["alias"]] if current else [], "IsTruncated": False}

    # -- account password policy ---------------------------------------------------------------
    def update_account_password_policy(self, ctx: CallContext, **settings: Any) -> dict[str, Any]:
        policy = {"MinimumPasswordLength": 6, "RequireSymbols": False, "RequireNumbers": False,
                  "RequireUppercaseCharacters": False, "RequireLowercaseCharacters": False,
                  "AllowUsersToChangePassword": False, "HardExpiry": False}
        policy.update({k: v for k, v in settings.items() if v is not None})
        if not 6 <= policy["MinimumPasswordLength"] <= 128:
            raise ValidationError("1 validation error detected: Value at 'minimumPasswordLength' failed to satisfy "
                                  "constraint: Member must have value greater than or equal to 6")
        policy["ExpirePasswords"] = bool(policy.get("MaxPasswordAge"))
        self.store.put("a", ctx.account_id, "password-policy", policy)
        return {}

    def get_account_password_policy(self, ctx: CallContext) -> dict[str, Any]:
        policy = self.store.get("a", ctx.account_id, "password-policy")
        if policy is None:
            raise NoSuchEntity(f"The Password Policy with domain name {ctx.account_id} cannot be found.")
        return {"PasswordPolicy": policy}

    def delete_account_password_policy(self, ctx: CallContext) -> dict[str, Any]:
        if self.store.get("a", ctx.account_id, "password-policy") is None:
            raise NoSuchEntity(f"The Password Policy with domain name {ctx.account_id} cannot be found.")
        self.store.delete("a", ctx.account_id, "password-policy")
        return {}

    def change_password(self, ctx: CallContext, OldPassword: str, NewPassword: str) -> dict[str, Any]:
        name = self._caller_user(ctx, None)
        if name is None:
            raise ValidationError("Only IAM users can change their password with ChangePassword.")
        user = self._entity("user", ctx.account_id, name)
        if not user.get("login_profile"):
            raise NoSuchEntity(f"Login Profile for User {name} cannot be found.")
        return {}

