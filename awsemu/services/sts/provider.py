"""STS. For now the identity the gateway read from SigV4; sessions and roles come with the IAM issue."""

from __future__ import annotations

from typing import Any

from awsemu.services.base import CallContext, Provider, runs_inline


class StsProvider(Provider):
    service_name = "sts"

    @runs_inline
    def get_caller_identity(self, ctx: CallContext) -> dict[str, Any]:
        return {"UserId": ctx.user_id, "Account": ctx.account_id, "Arn": ctx.principal_arn}
