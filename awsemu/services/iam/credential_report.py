"""The account credential report (GenerateCredentialReport / GetCredentialReport).

AWS builds the report in the background: the first GenerateCredentialReport answers ``STARTED``,
later ones ``COMPLETE`` while the report is younger than four hours (older: a new one is
started). Here the report is built synchronously inside the ``STARTED`` call (so it is ready when
the client polls) and kept in the account's record ``iam a <account> credential-report``; a
report older than four hours is expired for GetCredentialReport (``ReportExpired``).

The CSV has AWS's 22 columns in AWS's order (IAM User Guide, "Getting credential reports"), a
first row for the root user (``<root_account>``), timestamps as ``2014-12-03T19:24:08+00:00``,
``N/A`` where there is nothing to date, ``not_supported`` where the root user has no such thing,
and ``no_information`` for a password never used (this emulator has no console sign-in).
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.iam import common
from awsemu.services.iam.store import IamStore

REPORT_MAX_AGE_SECONDS = 4 * 3600
COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
    "password_next_rotation", "mfa_active",
    "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
    "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
)


class ReportNotPresent(ServiceError):
    code = "ReportNotPresent"
    status = 410


class ReportExpired(ServiceError):
    code = "ReportExpired"
    status = 410


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "N/A"
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(epoch))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _key_columns(keys: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for i in range(2):
        key = keys[i] if i < len(keys) else None
        used = (key or {}).get("last_used") or {}
        out += [_flag(bool(key) and key["Status"] == "Active"), _when(key["CreateDate"] if key else None),
                _when(used.get("date")), used.get("region", "N/A"), used.get("service", "N/A")]
    return out


def _cert_columns(certs: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for i in range(2):
        cert = certs[i] if i < len(certs) else None
        out += [_flag(bool(cert) and cert["Status"] == "Active"), _when(cert["UploadDate"] if cert else None)]
    return out


def build_report(store: IamStore, account: str, generated: float) -> bytes:
    """The CSV text of the account's credential report as of ``generated``."""
    keys_by_user: dict[str, list[dict[str, Any]]] = {}
    for key in store.scan_keys("k"):
        if key["account"] == account:
            keys_by_user.setdefault(key["UserName"].lower(), []).append(key)
    policy = store.get("a", account, "password-policy") or {}
    max_age = policy.get("MaxPasswordAge")
    users = list(store.scan("u", account))
    # IAM keeps no account creation date here: the root user is dated no later than its first user.
    root_created = min([u["CreateDate"] for u in users] + [generated])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerow(["<root_account>", f"arn:aws:iam::{account}:root", _when(root_created), "not_supported", "no_information",
                     "not_supported", "not_supported", "false", *_key_columns([]), *_cert_columns([])])
    for user in users:
        profile = user.get("login_profile")
        changed = profile["CreateDate"] if profile else None
        rotation = _when(changed + max_age * 86400) if profile and max_age else "N/A"
        keys = sorted(keys_by_user.get(user["UserName"].lower(), []), key=lambda k: k["CreateDate"])
        writer.writerow([user["UserName"], user["Arn"], _when(user["CreateDate"]), _flag(bool(profile)),
                         "no_information" if profile else "N/A", _when(changed), rotation,
                         _flag(bool(user.get("mfa"))), *_key_columns(keys),
                         *_cert_columns(user.get("signing_certs", []))])
    return out.getvalue().encode("utf-8")


class CredentialReportMixin:
    store: IamStore

    def generate_credential_report(self, ctx: CallContext) -> dict[str, Any]:
        current = self.store.get("a", ctx.account_id, "credential-report")
        if current is not None and common.now() - current["GeneratedTime"] < REPORT_MAX_AGE_SECONDS:
            return {"State": "COMPLETE"}
        generated = common.now()
        content = build_report(self.store, ctx.account_id, generated)
        self.store.put("a", ctx.account_id, "credential-report",
                       {"GeneratedTime": generated, "Content": content.decode("utf-8")})
        return {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}

    def get_credential_report(self, ctx: CallContext) -> dict[str, Any]:
        current = self.store.get("a", ctx.account_id, "credential-report")
        if current is None:
            raise ReportNotPresent("Credential report not present. Use GenerateCredentialReport to generate a report.")
        if common.now() - current["GeneratedTime"] >= REPORT_MAX_AGE_SECONDS:
            raise ReportExpired("The credential report has expired. Use GenerateCredentialReport to generate a new "
                                "report.")
        return {"Content": current["Content"].encode("utf-8"), "ReportFormat": "text/csv",
                "GeneratedTime": current["GeneratedTime"]}
