"""Access control lists: canned ACLs and grant headers -> grants; ownership controls decide if
ACLs are allowed at all (``BucketOwnerEnforced``, the default since April 2023, disables them:
``AccessControlListNotSupported``), and the public access block may refuse public ones.
"""

from __future__ import annotations

import re
from typing import Any

from awsemu.services.s3.errors import AccessControlListNotSupported, AccessDenied, invalid_argument

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
CANNED = frozenset({"private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
                    "bucket-owner-read", "bucket-owner-full-control", "log-delivery-write"})
GRANT_HEADERS = {
    "GrantFullControl": "FULL_CONTROL",
    "GrantRead": "READ",
    "GrantReadACP": "READ_ACP",
    "GrantWrite": "WRITE",
    "GrantWriteACP": "WRITE_ACP",
}
_GRANTEE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*"?([^",]+)"?\s*')


def _user(owner: dict[str, str], permission: str) -> dict[str, Any]:
    return {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": permission}


def _group(uri: str, permission: str) -> dict[str, Any]:
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def canned(acl: str, owner: dict[str, str]) -> dict[str, Any]:
    if acl not in CANNED:
        raise invalid_argument("", "x-amz-acl", acl)
    grants = [_user(owner, "FULL_CONTROL")]
    if acl in ("public-read", "public-read-write"):
        grants.append(_group(ALL_USERS, "READ"))
    if acl == "public-read-write":
        grants.append(_group(ALL_USERS, "WRITE"))
    if acl == "authenticated-read":
        grants.append(_group(AUTHENTICATED_USERS, "READ"))
    if acl == "log-delivery-write":
        grants += [_group(LOG_DELIVERY, "WRITE"), _group(LOG_DELIVERY, "READ_ACP")]
    return {"Owner": owner, "Grants": grants}


def grants_from_headers(account: str, p: dict[str, Any], owner: dict[str, str]) -> dict[str, Any]:
    """A canned ``ACL`` member or ``Grant*`` members -> {"Owner", "Grants"}."""
    if p.get("ACL"):
        return canned(p["ACL"], owner)
    grants: list[dict[str, Any]] = []
    for member, permission in GRANT_HEADERS.items():
        value = p.get(member)
        if not value:
            continue
        for item in value.split(","):
            m = _GRANTEE.fullmatch(item)
            if m is None:
                raise invalid_argument("", member, value)
            kind, who = m.group(1), m.group(2)
            if kind == "id":
                grantee = {"Type": "CanonicalUser", "ID": who}
            elif kind == "uri":
                grantee = {"Type": "Group", "URI": who}
            else:
                grantee = {"Type": "AmazonCustomerByEmail", "EmailAddress": who}
            grants.append({"Grantee": grantee, "Permission": permission})
    return {"Owner": owner, "Grants": grants}


def is_public(acl: dict[str, Any] | None) -> bool:
    for grant in (acl or {}).get("Grants") or []:
        if (grant.get("Grantee") or {}).get("URI") in (ALL_USERS, AUTHENTICATED_USERS):
            return True
    return False


def ownership(config: dict[str, Any]) -> str:
    rules = (config.get("ownership") or {}).get("Rules") or []
    return rules[0].get("ObjectOwnership", "BucketOwnerEnforced") if rules else "BucketOwnerEnforced"


def check_acl_allowed(config: dict[str, Any], acl: dict[str, Any] | None, canned_name: str | None = None) -> None:
    """Refuse ACLs the bucket's ownership controls or public access block do not allow."""
    if ownership(config) == "BucketOwnerEnforced":
        if canned_name in ("private", "bucket-owner-full-control"):
            return
        owner_id = ((acl or {}).get("Owner") or {}).get("ID")
        only_owner = all(
            (g.get("Grantee") or {}).get("ID") == owner_id and g.get("Permission") == "FULL_CONTROL"
            for g in (acl or {}).get("Grants") or []
        )
        if acl is not None and not (canned_name is None and only_owner):
            raise AccessControlListNotSupported()
    pab = config.get("pab") or {}
    if pab.get("BlockPublicAcls") and is_public(acl):
        raise AccessDenied()
