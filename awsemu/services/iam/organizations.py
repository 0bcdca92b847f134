"""The IAM operations of centralized root access, which work only inside AWS Organizations.

This emulator serves no Organizations: every account is a standalone account, and these answer as
IAM answers one (``OrganizationNotFoundException``, "no organization is associated with your
account") rather than as an unimplemented operation.
"""

from __future__ import annotations

from typing import Any

from awsemu.services.base import CallContext, ServiceError


class OrganizationNotFound(ServiceError):
    code = "OrganizationNotFoundException"
    status = 400


def _standalone() -> OrganizationNotFound:
    return OrganizationNotFound("The request was rejected because no organization is associated with your account.")


class OrganizationsMixin:
    def list_organizations_features(self, ctx: CallContext) -> dict[str, Any]:
        raise _standalone()

    def enable_organizations_root_credentials_management(self, ctx: CallContext) -> dict[str, Any]:
        raise _standalone()

    def disable_organizations_root_credentials_management(self, ctx: CallContext) -> dict[str, Any]:
        raise _standalone()

    def enable_organizations_root_sessions(self, ctx: CallContext) -> dict[str, Any]:
        raise _standalone()

    def disable_organizations_root_sessions(self, ctx: CallContext) -> dict[str, Any]:
        raise _standalone()
