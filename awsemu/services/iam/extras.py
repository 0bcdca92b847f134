"""Instance profiles, OIDC and SAML providers, service-linked roles, account-wide reports and the
policy simulator (SimulatePrincipalPolicy / SimulateCustomPolicy, answered by the evaluator)."""

from __future__ import annotations

import re
import threading
from typing import Any

from awsemu.services.iam.policy import AuthzRequest, PrincipalInfo, evaluate, parse_policy
from awsemu.services.iam.policy.parse import RESOURCE, MalformedPolicy
from awsemu.services.base import CallContext
from awsemu.services.iam.common import (
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
    check_tags,
    dumps,
    encode_document,
    now,
    page,
    validate_path,
)
from awsemu.services.iam.principals import Principals
from awsemu.services.iam.store import IamStore, new_id



class ExtrasMixin:
    store: IamStore
    lock: threading.RLock
    principals: Principals

    # -- instance profiles ----------------------------------------------------------------------
    def _profile(self, ctx: CallContext, name: str) -> dict[str, Any]:
        record = self.store.get("ip", ctx.account_id, name)
        if record is None:
            raise NoSuchEntity(f"Instance Profile {name} cannot be found.")
        return record

    def _profile_public(self, ctx: CallContext, record: dict[str, Any]) -> dict[str, Any]:
        roles = [r for r in (self.store.get("r", ctx.account_id, n) for n in record["roles"]) if r]
        out = {k: v for k, v in record.items() if k[0].isupper() and k != "Tags"}
        out["Roles"] = [self._public(r, False) for r in roles]  # type: ignore[attr-defined]
        if record.get("Tags"):
            out["Tags"] = record["Tags"]
        return out

    def create_instance_profile(self, ctx: CallContext, InstanceProfileName: str, Path: str | None = None,
                                Tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        path = validate_path(Path)
        with self.lock:
            if self.store.get("ip", ctx.account_id, InstanceProfileName) is not None:
                raise EntityAlreadyExists(f"Instance Profile {InstanceProfileName} already exists.")
            record = {"Path": path, "InstanceProfileName": InstanceProfileName, "InstanceProfileId": new_id("AIPA"),
                      "Arn": f"arn:aws:iam::{ctx.account_id}:instance-profile{path}{InstanceProfileName}",
                      "CreateDate": now(), "Tags": check_tags(Tags), "roles": []}
            self.store.put("ip", ctx.account_id, InstanceProfileName, record)
        return {"InstanceProfile": self._profile_public(ctx, record)}

    def get_instance_profile(self, ctx: CallContext, InstanceProfileName: str) -> dict[str, Any]:
        return {"InstanceProfile": self._profile_public(ctx, self._profile(ctx, InstanceProfileName))}

    def delete_instance_profile(self, ctx: CallContext, InstanceProfileName: str) -> dict[str, Any]:
        with self.lock:
            record = self._profile(ctx, InstanceProfileName)
            if record["roles"]:
                from awsemu.services.iam.common import DeleteConflict
                raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
            self.store.delete("ip", ctx.account_id, InstanceProfileName)
        return {}

    def add_role_to_instance_profile(self, ctx: CallContext, InstanceProfileName: str, RoleName: str) -> dict[str, Any]:
        with self.lock:
            record = self._profile(ctx, InstanceProfileName)
            role = self._entity("role", ctx.account_id, RoleName)  # type: ignore[attr-defined]
            if record["roles"]:
                raise LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
            record["roles"].append(role["RoleName"])
            self.store.put("ip", ctx.account_id, InstanceProfileName, record)
        return {}

    def remove_role_from_instance_profile(self, ctx: CallContext, InstanceProfileName: str, RoleName: str) -> dict[str, Any]:
        with self.lock:
            record = self._profile(ctx, InstanceProfileName)
            kept = [r for r in record["roles"] if r.lower() != RoleName.lower()]
            if len(kept) == len(record["roles"]):
                raise NoSuchEntity(f"The role with name {RoleName} cannot be found.")
            record["roles"] = kept
            self.store.put("ip", ctx.account_id, InstanceProfileName, record)
        return {}

    def list_instance_profiles(self, ctx: CallContext, PathPrefix: str | None = None, Marker: str | None = None,
                               MaxItems: int | None = None) -> dict[str, Any]:
        items = [r for r in self.store.scan("ip", ctx.account_id) if r["Path"].startswith(PathPrefix or "/")]
        chosen, meta = page(items, Marker, MaxItems, lambda r: r["InstanceProfileName"].lower())
        return {"InstanceProfiles": [self._profile_public(ctx, r) for r in chosen], **meta}

    def list_instance_profiles_for_role(self, ctx: CallContext, RoleName: str, Marker: str | None = None,
                                        MaxItems: int | None = None) -> dict[str, Any]:
        self._entity("role", ctx.account_id, RoleName)  # type: ignore[attr-defined]
        items = [r for r in self.store.scan("ip", ctx.account_id) if RoleName.lower() in [n.lower() for n in r["roles"]]]
        chosen, meta = page(items, Marker, MaxItems, lambda r: r["InstanceProfileName"].lower())
        return {"InstanceProfiles": [self._profile_public(ctx, r) for r in chosen], **meta}

    # -- OIDC / SAML providers -------------------------------------------------------------------
    def create_open_id_connect_provider(self, ctx: CallContext, Url: str, ClientIDList: list[str] | None = None,
                                        ThumbprintList: list[str] | None = None,
                                        Tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        host = re.sub(r"^https://", "", Url).rstrip("/")
        arn = f"arn:aws:iam::{ctx.account_id}:oidc-provider/{host}"
        with self.lock:
            if self.store.get("o", ctx.account_id, arn) is not None:
                raise EntityAlreadyExists(f"Provider with url {Url} already exists.")
            self.store.put("o", ctx.account_id, arn, {"Arn": arn, "Url": host, "ClientIDList": ClientIDList or [],
                                                      "ThumbprintList": ThumbprintList or [], "CreateDate": now(),
                                                      "Tags": check_tags(Tags)})
        return {"OpenIDConnectProviderArn": arn, "Tags": check_tags(Tags)}

    def _oidc(self, ctx: CallContext, arn: str) -> dict[str, Any]:
        record = self.store.get("o", ctx.account_id, arn)
        if record is None:
            raise NoSuchEntity(f"OpenIDConnect Provider not found for arn {arn}")
        return record

    def get_open_id_connect_provider(self, ctx: CallContext, OpenIDConnectProviderArn: str) -> dict[str, Any]:
        r = self._oidc(ctx, OpenIDConnectProviderArn)
        out = {"Url": r["Url"], "ClientIDList": r["ClientIDList"], "ThumbprintList": r["ThumbprintList"],
               "CreateDate": r["CreateDate"]}
        for field in ("ContextProvider", "IdentityCenterInstanceArn"):
            if r.get(field) is not None:
                out[field] = r[field]
        if r.get("Tags"):
            out["Tags"] = r["Tags"]
        return out

    def list_open_id_connect_providers(self, ctx: CallContext) -> dict[str, Any]:
        return {"OpenIDConnectProviderList": [{"Arn": r["Arn"]} for r in self.store.scan("o", ctx.account_id)]}

    def delete_open_id_connect_provider(self, ctx: CallContext, OpenIDConnectProviderArn: str) -> dict[str, Any]:
        self._oidc(ctx, OpenIDConnectProviderArn)
        self.store.delete("o", ctx.account_id, OpenIDConnectProviderArn)
        return {}

    def add_client_id_to_open_id_connect_provider(self, ctx: CallContext, OpenIDConnectProviderArn: str,
                                                  ClientID: str) -> dict[str, Any]:
        with self.lock:
            r = self._oidc(ctx, OpenIDConnectProviderArn)
            if ClientID not in r["ClientIDList"]:
                r["ClientIDList"].append(ClientID)
            self.store.put("o", ctx.account_id, OpenIDConnectProviderArn, r)
        return {}

    def remove_client_id_from_open_id_connect_provider(self, ctx: CallContext, OpenIDConnectProviderArn: str,
                                                       ClientID: str) -> dict[str, Any]:
        with self.lock:
            r = self._oidc(ctx, OpenIDConnectProviderArn)
            r["ClientIDList"] = [c for c in r["ClientIDList"] if c != ClientID]
            self.store.put("o", ctx.account_id, OpenIDConnectProviderArn, r)
        return {}

    def update_open_id_connect_provider(self, ctx: CallContext, OpenIDConnectProviderArn: str,
                                        ContextProvider: dict[str, Any] | None = None,
                                        IdentityCenterInstanceArn: str | None = None,
                                        RemoveContextProvider: bool | None = None,
                                        RemoveIdentityCenterInstance: bool | None = None) -> dict[str, Any]:
        """The trusted-identity-propagation settings: stored and returned by GetOpenIDConnectProvider."""
        with self.lock:
            r = self._oidc(ctx, OpenIDConnectProviderArn)
            for field, value, remove in (("ContextProvider", ContextProvider, RemoveContextProvider),
                                         ("IdentityCenterInstanceArn", IdentityCenterInstanceArn,
                                          RemoveIdentityCenterInstance)):
                if remove:
                    r.pop(field, None)
                elif value is not None:
                    r[field] = value
            self.store.put("o", ctx.account_id, OpenIDConnectProviderArn, r)
        return {}

    def update_open_id_connect_provider_thumbprint(self, ctx: CallContext, OpenIDConnectProviderArn: str,
                                                   ThumbprintList: list[str]) -> dict[str, Any]:
        with self.lock:
            r = self._oidc(ctx, OpenIDConnectProviderArn)
            r["ThumbprintList"] = ThumbprintList
            self.store.put("o", ctx.account_id, OpenIDConnectProviderArn, r)
        return {}

    def create_saml_provider(self, ctx: CallContext, SAMLMetadataDocument: str, Name: str,
                             Tags: list[dict[str, str]] | None = None, **_: Any) -> dict[str, Any]:
        if len(SAMLMetadataDocument) < 1000:
            raise InvalidInput("Could not parse metadata")
        arn = f"arn:aws:iam::{ctx.account_id}:saml-provider/{Name}"
        with self.lock:
            if self.store.get("sp", ctx.account_id, arn) is not None:
                raise EntityAlreadyExists(f"SAMLProvider {Name} already exists")
            self.store.put("sp", ctx.account_id, arn, {"Arn": arn, "SAMLMetadataDocument": SAMLMetadataDocument,
                                                       "CreateDate": now(), "ValidUntil": now() + 365 * 86400,
                                                       "Tags": check_tags(Tags)})
        return {"SAMLProviderArn": arn}

    def get_saml_provider(self, ctx: CallContext, SAMLProviderArn: str) -> dict[str, Any]:
        r = self.store.get("sp", ctx.account_id, SAMLProviderArn)
        if r is None:
            raise NoSuchEntity(f"SAMLProvider {SAMLProviderArn} not found")
        return {"SAMLMetadataDocument": r["SAMLMetadataDocument"], "CreateDate": r["CreateDate"],
                "ValidUntil": r["ValidUntil"]}

    def list_saml_providers(self, ctx: CallContext, **_: Any) -> dict[str, Any]:
        return {"SAMLProviderList": [{"Arn": r["Arn"], "ValidUntil": r["ValidUntil"], "CreateDate": r["CreateDate"]}
                                     for r in self.store.scan("sp", ctx.account_id)]}

    def update_saml_provider(self, ctx: CallContext, SAMLProviderArn: str, SAMLMetadataDocument: str | None = None,
                             **_: Any) -> dict[str, Any]:
        with self.lock:
            r = self.store.get("sp", ctx.account_id, SAMLProviderArn)
            if r is None:
                raise NoSuchEntity(f"SAMLProvider {SAMLProviderArn} not found")
            if SAMLMetadataDocument is not None:
                if len(SAMLMetadataDocument) < 1000:
                    raise InvalidInput("Could not parse metadata")
                r["SAMLMetadataDocument"] = SAMLMetadataDocument
            self.store.put("sp", ctx.account_id, SAMLProviderArn, r)
        return {"SAMLProviderArn": SAMLProviderArn}

    def delete_saml_provider(self, ctx: CallContext, SAMLProviderArn: str) -> dict[str, Any]:
        if self.store.get("sp", ctx.account_id, SAMLProviderArn) is None:
            raise NoSuchEntity(f"SAMLProvider {SAMLProviderArn} not found")
        self.store.delete("sp", ctx.account_id, SAMLProviderArn)
        return {}

    # -- service-linked roles ----------------------------------------------------------------------
    def create_service_linked_role(self, ctx: CallContext, AWSServiceName: str, Description: str | None = None,
                                   CustomSuffix: str | None = None) -> dict[str, Any]:
        service = AWSServiceName.split(".")[0]
        name = "AWSServiceRoleFor" + "".join(p.capitalize() for p in re.split(r"[-.]", service))
        if CustomSuffix:
            name += f"_{CustomSuffix}"
        trust = dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": AWSServiceName},
                                                                "Action": "sts:AssumeRole"}]})
        role = self.create_role(ctx, name, trust, Path=f"/aws-service-role/{AWSServiceName}/",  # type: ignore[attr-defined]
                                Description=Description)
        return {"Role": role["Role"]}

    def delete_service_linked_role(self, ctx: CallContext, RoleName: str) -> dict[str, Any]:
        role = self._entity("role", ctx.account_id, RoleName)  # type: ignore[attr-defined]
        if not role["Path"].startswith("/aws-service-role/"):
            raise InvalidInput(f"The role {RoleName} is not a service-linked role.")
        with self.lock:
            role["inline"], role["attached"] = {}, []
            self._save("role", ctx.account_id, role)  # type: ignore[attr-defined]
            self.delete_role(ctx, RoleName)  # type: ignore[attr-defined]
        task = f"task/aws-service-role/{role['Path'].split('/')[2]}/{RoleName}/{new_id('', 36).lower()}"
        return {"DeletionTaskId": task}

    def get_service_linked_role_deletion_status(self, ctx: CallContext, DeletionTaskId: str) -> dict[str, Any]:
        return {"Status": "SUCCEEDED"}

    # -- account-wide reports ------------------------------------------------------------------------
    def get_account_authorization_details(self, ctx: CallContext, Filter: list[str] | None = None,
                                          MaxItems: int | None = None, Marker: str | None = None) -> dict[str, Any]:
        wanted = set(Filter or ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"])
        out: dict[str, Any] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}

        def inline(record: dict[str, Any]) -> list[dict[str, str]]:
            return [{"PolicyName": n, "PolicyDocument": encode_document(d)} for n, d in record["inline"].items()]

        def attached(record: dict[str, Any]) -> list[dict[str, str]]:
            return [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in record["attached"]]

        if "User" in wanted:
            for u in self.store.scan("u", ctx.account_id):
                out["UserDetailList"].append({**self._public(u), "UserPolicyList": inline(u),  # type: ignore[attr-defined]
                                              "GroupList": u["groups"], "AttachedManagedPolicies": attached(u)})
        if "Group" in wanted:
            for g in self.store.scan("g", ctx.account_id):
                out["GroupDetailList"].append({**self._public(g), "GroupPolicyList": inline(g),  # type: ignore[attr-defined]
                                               "AttachedManagedPolicies": attached(g)})
        if "Role" in wanted:
            for r in self.store.scan("r", ctx.account_id):
                profiles = [self._profile_public(ctx, p) for p in self.store.scan("ip", ctx.account_id)
                            if r["RoleName"] in p["roles"]]
                out["RoleDetailList"].append({**self._public(r), "RolePolicyList": inline(r),  # type: ignore[attr-defined]
                                              "AttachedManagedPolicies": attached(r), "InstanceProfileList": profiles})
        scopes = [s for s, f in (("Local", "LocalManagedPolicy"), ("AWS", "AWSManagedPolicy")) if f in wanted]
        for scope in scopes:
            for p in self.list_policies(ctx, Scope=scope, MaxItems=1000)["Policies"]:  # type: ignore[attr-defined]
                record = self._managed(ctx, p["Arn"])  # type: ignore[attr-defined]
                if scope == "AWS" and not p["AttachmentCount"]:
                    continue
                versions = [{"Document": encode_document(v["Document"]), "VersionId": vid,
                             "IsDefaultVersion": vid == record["DefaultVersionId"], "CreateDate": v["CreateDate"]}
                            for vid, v in record["versions"].items()]
                out["Policies"].append({**p, "PolicyVersionList": versions})
        return {**out, "IsTruncated": False}

    def get_account_summary(self, ctx: CallContext) -> dict[str, Any]:
        count = {k: sum(1 for _ in self.store.scan(k, ctx.account_id)) for k in ("u", "g", "r", "p", "ip", "sc")}
        devices = list(self.store.scan("mfa", ctx.account_id))
        sts = self.store.get("a", ctx.account_id, "sts-preferences") or {}
        return {"SummaryMap": {"Users": count["u"], "Groups": count["g"], "Roles": count["r"], "Policies": count["p"],
                               "InstanceProfiles": count["ip"], "ServerCertificates": count["sc"],
                               "ServerCertificatesQuota": 20, "MFADevices": len(devices),
                               "MFADevicesInUse": sum(1 for d in devices if d.get("user")),
                               "GlobalEndpointTokenVersion": 2 if sts.get("version") == "v2Token" else 1,
                               "SigningCertificatesPerUserQuota": 2, "UsersQuota": 5000, "GroupsQuota": 300,
                               "RolesQuota": 1000, "PoliciesQuota": 1500, "AccessKeysPerUserQuota": 2,
                               "PolicyVersionsInUseQuota": 10000, "AttachedPoliciesPerUserQuota": 10,
                               "AttachedPoliciesPerRoleQuota": 10, "AttachedPoliciesPerGroupQuota": 10,
                               "PolicySizeQuota": 6144, "AccountMFAEnabled": 0}}

    # -- the policy simulator ----------------------------------------------------------------------
    @staticmethod
    def _context(entries: list[dict[str, Any]] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for e in entries or []:
            values = e.get("ContextKeyValues") or []
            out[e["ContextKeyName"]] = values if str(e.get("ContextKeyType", "")).endswith("List") else (values[0] if values else None)
        return {k: v for k, v in out.items() if v is not None}

    @staticmethod
    def _parse_inputs(texts: list[str] | None, kind: str, prefix: str) -> list[Any]:
        policies = []
        for i, text in enumerate(texts or []):
            try:
                policies.append(parse_policy(text, kind, source_id=f"{prefix}{i + 1}", source_type="none"))
            except MalformedPolicy as exc:
                raise MalformedPolicyDocument(str(exc)) from None
        return policies

    def _simulate(self, ctx: CallContext, principal: PrincipalInfo, identity: list[Any], boundary: Any,
                  actions: list[str], resources: list[str] | None, resource_policy: str | None,
                  resource_owner: str | None, context: dict[str, Any], marker: str | None,
                  max_items: int | None) -> dict[str, Any]:
        res_policy = None
        if resource_policy:
            try:
                res_policy = parse_policy(resource_policy, RESOURCE, source_id="ResourcePolicy", source_type="resource")
            except MalformedPolicy as exc:
                raise MalformedPolicyDocument(str(exc)) from None
        owner = ""
        if resource_owner:
            owner = resource_owner.split(":")[4] if resource_owner.startswith("arn:") else resource_owner
        results = []
        for action in actions:
            for resource in resources or ["*"]:
                decision = evaluate(AuthzRequest(action, resource, principal, owner, context),
                                    identity_policies=identity, resource_policy=res_policy, permissions_boundary=boundary)
                results.append({
                    "EvalActionName": action, "EvalResourceName": resource, "EvalDecision": decision.decision,
                    "MatchedStatements": [{"SourcePolicyId": m.source_id, "SourcePolicyType": m.source_type or "none",
                                           "StartPosition": {"Line": 1, "Column": m.index + 1},
                                           "EndPosition": {"Line": 1, "Column": m.index + 2}}
                                          for m in decision.matched],
                    "MissingContextValues": [],
                    **({"EvalDecisionDetails": {"PermissionsBoundaryPolicy" if decision.reason == "boundary" else
                                                "IdentityPolicy": decision.decision}} if decision.reason else {}),
                })
        chosen, meta = page(results, marker, max_items, lambda r: f"{results.index(r):08d}")
        return {"EvaluationResults": chosen, **meta}

    def simulate_custom_policy(self, ctx: CallContext, PolicyInputList: list[str], ActionNames: list[str],
                               PermissionsBoundaryPolicyInputList: list[str] | None = None,
                               ResourceArns: list[str] | None = None, ResourcePolicy: str | None = None,
                               ResourceOwner: str | None = None, CallerArn: str | None = None,
                               ContextEntries: list[dict[str, Any]] | None = None, ResourceHandlingOption: str | None = None,
                               MaxItems: int | None = None, Marker: str | None = None) -> dict[str, Any]:
        identity = self._parse_inputs(PolicyInputList, "identity", "PolicyInputList.")
        boundaries = self._parse_inputs(PermissionsBoundaryPolicyInputList, "identity", "PermissionsBoundaryPolicyInputList.")
        caller = CallerArn or f"arn:aws:iam::{ctx.account_id}:user/SimulatedUser"
        principal = PrincipalInfo(caller, caller.split(":")[4] or ctx.account_id, "user")
        return self._simulate(ctx, principal, identity, boundaries[0] if boundaries else None, ActionNames,
                              ResourceArns, ResourcePolicy, ResourceOwner, self._context(ContextEntries), Marker, MaxItems)

    def simulate_principal_policy(self, ctx: CallContext, PolicySourceArn: str, ActionNames: list[str],
                                  PolicyInputList: list[str] | None = None,
                                  PermissionsBoundaryPolicyInputList: list[str] | None = None,
                                  ResourceArns: list[str] | None = None, ResourcePolicy: str | None = None,
                                  ResourceOwner: str | None = None, CallerArn: str | None = None,
                                  ContextEntries: list[dict[str, Any]] | None = None,
                                  ResourceHandlingOption: str | None = None, MaxItems: int | None = None,
                                  Marker: str | None = None) -> dict[str, Any]:
        m = re.fullmatch(r"arn:aws:iam::(\d{12}):(user|role|group)/(?:.*/)?([^/]+)", PolicySourceArn)
        if m is None or m.group(1) != ctx.account_id:
            raise InvalidInput(f"Invalid Entity Arn: {PolicySourceArn} does not clearly define entity type and name.")
        kind, name = m.group(2), m.group(3)
        if self.store.get(kind[0], ctx.account_id, name) is None:
            raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
        if kind == "group":
            from awsemu.services.iam.principals import PrincipalPolicies
            found = PrincipalPolicies()
            group = self.store.get("g", ctx.account_id, name)
            assert group is not None
            self.principals._entity_policies(ctx.account_id, "g", group, found.identity)
        else:
            found = self.principals.entity_policies(ctx.account_id, (kind, name))
        identity = found.identity + self._parse_inputs(PolicyInputList, "identity", "PolicyInputList.")
        boundaries = self._parse_inputs(PermissionsBoundaryPolicyInputList, "identity", "PermissionsBoundaryPolicyInputList.")
        boundary = boundaries[0] if boundaries else found.boundary
        principal = PrincipalInfo(CallerArn or PolicySourceArn, ctx.account_id, "user" if kind != "role" else "assumed-role",
                                  role_arn=PolicySourceArn if kind == "role" else "")
        context = {"aws:username": name} if kind == "user" else {}
        context.update({f"aws:PrincipalTag/{k}": v for k, v in found.tags.items()})
        context.update(self._context(ContextEntries))
        return self._simulate(ctx, principal, identity, boundary, ActionNames, ResourceArns, ResourcePolicy,
                              ResourceOwner, context, Marker, MaxItems)

    @staticmethod
    def _condition_keys(policies: list[Any]) -> list[str]:
        """The condition keys the policies use, each once, in order of first use."""
        keys: list[str] = []
        for policy in policies:
            for statement in policy.statements:
                for _, block in statement.conditions:
                    for key, _values in block:
                        if key not in keys:
                            keys.append(key)
        return keys

    def get_context_keys_for_custom_policy(self, ctx: CallContext, PolicyInputList: list[str]) -> dict[str, Any]:
        return {"ContextKeyNames": self._condition_keys(self._parse_inputs(PolicyInputList, "identity",
                                                                           "PolicyInputList."))}

    def get_context_keys_for_principal_policy(self, ctx: CallContext, PolicySourceArn: str,
                                              PolicyInputList: list[str] | None = None) -> dict[str, Any]:
        """The condition keys of the entity's own policies (a user's groups' too) and of the extra inputs."""
        m = re.fullmatch(r"arn:aws:iam::(\d{12}):(user|role|group)/(?:.*/)?([^/]+)", PolicySourceArn)
        if m is None or m.group(1) != ctx.account_id:
            raise InvalidInput(f"Invalid Entity Arn: {PolicySourceArn} does not clearly define entity type and name.")
        kind, name = m.group(2), m.group(3)
        record = self.store.get(kind[0], ctx.account_id, name)
        if record is None:
            raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
        from awsemu.services.iam.principals import PrincipalPolicies
        found = PrincipalPolicies()
        if kind == "group":
            self.principals._entity_policies(ctx.account_id, "g", record, found.identity)
        else:
            found = self.principals.entity_policies(ctx.account_id, (kind, name))
        extra = self._parse_inputs(PolicyInputList, "identity", "PolicyInputList.")
        return {"ContextKeyNames": self._condition_keys(found.identity + extra)}

    # -- account settings --------------------------------------------------------------------------
    def set_security_token_service_preferences(self, ctx: CallContext, GlobalEndpointTokenVersion: str) -> dict[str, Any]:
        if GlobalEndpointTokenVersion not in ("v1Token", "v2Token"):
            raise InvalidInput(f"1 validation error detected: Value '{GlobalEndpointTokenVersion}' at "
                               "'globalEndpointTokenVersion' failed to satisfy constraint: Member must satisfy enum "
                               "value set: [v1Token, v2Token]")
        self.store.put("a", ctx.account_id, "sts-preferences", {"version": GlobalEndpointTokenVersion})
        return {}
