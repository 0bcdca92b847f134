"""Which policies grant which services, and when they were last used ("access advisor"):
ListPoliciesGrantingServiceAccess, GenerateServiceLastAccessedDetails and its two readers.

A service is *granted* by a policy when one of its Allow statements names an action of that
service's namespace (wildcards included: ``s3:Get*``, ``*``), or uses NotAction without excluding
the whole namespace. The "last accessed" data is what this emulator tracks: the last use of each
access key (date, service, region; see ``note_key_used``), so a user's services carry their
``LastAuthenticated`` when one of the user's keys was last used for them; roles and groups'
sessions are not tracked (their services are listed with no date, as AWS lists services never
used). Reports are computed when generated and kept in the account record
``iam a <account> sla-job-<id>``; they are complete at once (``JobStatus`` COMPLETED).
"""

from __future__ import annotations

import fnmatch
import json
import re
import uuid
from typing import Any, Iterator

from awsemu.services.base import CallContext
from awsemu.services.iam.common import InvalidInput, NoSuchEntity, now, page
from awsemu.services.iam.principals import Principals
from awsemu.services.iam.store import IamStore

# The services this emulator serves, by namespace: what a "*" action grants here.
SERVICE_NAMES = {
    "dynamodb": "Amazon DynamoDB", "iam": "AWS Identity and Access Management", "lambda": "AWS Lambda",
    "s3": "Amazon S3", "sqs": "Amazon SQS", "sts": "AWS Security Token Service",
}
_ENTITY_ARN = re.compile(r"^arn:aws:iam::(\d{12}):(user|group|role|policy)/(?:.*/)?([^/]+)$")
_KIND = {"user": "u", "group": "g", "role": "r"}


def _statements(text: str) -> Iterator[dict[str, Any]]:
    try:
        doc = json.loads(text)
    except ValueError:
        return
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict) and statement.get("Effect") == "Allow":
            yield statement


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]


def granted_namespaces(text: str) -> set[str]:
    """The service namespaces an Allow statement of the policy reaches (``*`` -> every served one)."""
    out: set[str] = set()
    for statement in _statements(text):
        if "NotAction" in statement:
            excluded = {a.lower().split(":", 1)[0] for a in _as_list(statement["NotAction"])
                        if a == "*" or a.lower().endswith(":*")}
            out |= {ns for ns in SERVICE_NAMES if ns not in excluded and "*" not in excluded}
            continue
        for action in _as_list(statement.get("Action")):
            prefix = action.lower().split(":", 1)[0]
            if action == "*" or "*" in prefix or "?" in prefix:
                out |= {ns for ns in SERVICE_NAMES if fnmatch.fnmatchcase(ns, prefix if action != "*" else "*")}
            else:
                out.add(prefix)
    return out


class AccessReportsMixin:
    store: IamStore
    principals: Principals

    # -- which policies of an entity grant what ------------------------------------------------------
    def _entity_arn(self, ctx: CallContext, arn: str) -> tuple[str, str, dict[str, Any] | None]:
        m = _ENTITY_ARN.match(arn or "")
        if m is None or m.group(1) != ctx.account_id:
            raise InvalidInput(f"Invalid ARN {arn}: it does not name an IAM user, group, role or policy of this account.")
        kind, name = m.group(2), m.group(3)
        if kind == "policy":
            if self.principals.managed_document(ctx.account_id, arn) is None:
                raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
            return kind, name, None
        record = self.store.get(_KIND[kind], ctx.account_id, name)
        if record is None:
            raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
        return kind, name, record

    def _policies_of(self, ctx: CallContext, kind: str, record: dict[str, Any]) -> list[dict[str, Any]]:
        """(name, type, arn, entity type, entity name, document) of every policy the entity holds,
        a user's groups' policies included."""
        holders = [(kind, record)]
        if kind == "user":
            holders += [("group", g) for g in (self.store.get("g", ctx.account_id, n) for n in record.get("groups", [])) if g]
        out: list[dict[str, Any]] = []
        for holder_kind, holder in holders:
            holder_name = holder[{"user": "UserName", "group": "GroupName", "role": "RoleName"}[holder_kind]]
            for policy_name, text in holder.get("inline", {}).items():
                out.append({"PolicyName": policy_name, "PolicyType": "INLINE", "EntityType": holder_kind.upper(),
                            "EntityName": holder_name, "document": text})
            for arn in holder.get("attached", []):
                text = self.principals.managed_document(ctx.account_id, arn)
                if text is not None and arn not in [p.get("PolicyArn") for p in out]:
                    out.append({"PolicyName": arn.rsplit("/", 1)[-1], "PolicyType": "MANAGED", "PolicyArn": arn,
                                "document": text})
        return out

    def list_policies_granting_service_access(self, ctx: CallContext, Arn: str, ServiceNamespaces: list[str],
                                              Marker: str | None = None) -> dict[str, Any]:
        kind, name, record = self._entity_arn(ctx, Arn)
        if kind == "policy":
            raise InvalidInput("ListPoliciesGrantingServiceAccess takes the ARN of a user, group or role.")
        assert record is not None
        policies = self._policies_of(ctx, kind, record)
        entries = []
        for namespace in ServiceNamespaces:
            granting = [{k: v for k, v in p.items() if k != "document"} for p in policies
                        if namespace.lower() in granted_namespaces(p["document"])]
            entries.append({"ServiceNamespace": namespace, "Policies": granting})
        return {"PoliciesGrantingServiceAccess": entries, "IsTruncated": False}

    # -- service last accessed reports -------------------------------------------------------------
    def _key_uses(self, ctx: CallContext, user_names: set[str]) -> list[dict[str, Any]]:
        return [dict(k["last_used"], user=k["UserName"]) for k in self.store.scan_keys("k")
                if k["account"] == ctx.account_id and k["UserName"].lower() in user_names and k.get("last_used")]

    def generate_service_last_accessed_details(self, ctx: CallContext, Arn: str,
                                               Granularity: str | None = None) -> dict[str, Any]:
        kind, name, record = self._entity_arn(ctx, Arn)
        if kind == "policy":
            documents = [self.principals.managed_document(ctx.account_id, Arn) or ""]
            users = [u for u in self.store.scan("u", ctx.account_id) if Arn in u.get("attached", [])]
        else:
            assert record is not None
            documents = [p["document"] for p in self._policies_of(ctx, kind, record)]
            users = [record] if kind == "user" else [u for u in (self.store.get("u", ctx.account_id, m)
                                                                  for m in record.get("members", [])) if u]
        uses = self._key_uses(ctx, {u["UserName"].lower() for u in users})
        namespaces = sorted(set().union(*(granted_namespaces(d) for d in documents)) if documents else set())
        services = []
        for namespace in namespaces:
            entry: dict[str, Any] = {"ServiceName": SERVICE_NAMES.get(namespace, namespace), "ServiceNamespace": namespace,
                                     "TotalAuthenticatedEntities": len({u["user"] for u in uses if u["service"] == namespace})}
            latest = max((u for u in uses if u["service"] == namespace), key=lambda u: u["date"], default=None)
            if latest is not None:
                user = next(u for u in users if u["UserName"] == latest["user"])
                entry.update({"LastAuthenticated": latest["date"], "LastAuthenticatedEntity": user["Arn"],
                              "LastAuthenticatedRegion": latest["region"]})
            services.append(entry)
        entities = [{"EntityInfo": {"Arn": u["Arn"], "Name": u["UserName"], "Type": "USER", "Id": u["UserId"],
                                    "Path": u["Path"]}, "uses": {x["service"]: x["date"] for x in uses
                                                                 if x["user"] == u["UserName"]}} for u in users]
        job_id = str(uuid.uuid4())
        created = now()
        self.store.put("a", ctx.account_id, f"sla-job-{job_id}", {
            "JobType": Granularity or "SERVICE_LEVEL", "JobCreationDate": created, "JobCompletionDate": created,
            "services": services, "entities": entities})
        return {"JobId": job_id}

    def _job(self, ctx: CallContext, job_id: str) -> dict[str, Any]:
        job = self.store.get("a", ctx.account_id, f"sla-job-{job_id}")
        if job is None:
            raise NoSuchEntity(f"No job found with id {job_id}")
        return job

    def get_service_last_accessed_details(self, ctx: CallContext, JobId: str, MaxItems: int | None = None,
                                          Marker: str | None = None) -> dict[str, Any]:
        job = self._job(ctx, JobId)
        chosen, meta = page(job["services"], Marker, MaxItems, lambda s: s["ServiceNamespace"])
        return {"JobStatus": "COMPLETED", "JobType": job["JobType"], "JobCreationDate": job["JobCreationDate"],
                "JobCompletionDate": job["JobCompletionDate"], "ServicesLastAccessed": chosen, **meta}

    def get_service_last_accessed_details_with_entities(self, ctx: CallContext, JobId: str, ServiceNamespace: str,
                                                        MaxItems: int | None = None,
                                                        Marker: str | None = None) -> dict[str, Any]:
        job = self._job(ctx, JobId)
        details = []
        for entity in job["entities"]:
            item: dict[str, Any] = {"EntityInfo": entity["EntityInfo"]}
            if ServiceNamespace in entity["uses"]:
                item["LastAuthenticated"] = entity["uses"][ServiceNamespace]
            details.append(item)
        chosen, meta = page(details, Marker, MaxItems, lambda d: d["EntityInfo"]["Name"].lower())
        return {"JobStatus": "COMPLETED", "JobCreationDate": job["JobCreationDate"],
                "JobCompletionDate": job["JobCompletionDate"], "EntityDetailsList": chosen, **meta}
