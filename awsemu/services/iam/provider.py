"""The IAM provider (query protocol), on the lsm engine.

Operations are split by topic into mixins: :mod:`entities` (users, groups, roles, access keys,
login profiles, tags, account alias), :mod:`policies` (managed policies and versions, attachments,
inline policies, boundaries), :mod:`extras` (instance profiles, OIDC/SAML providers,
service-linked roles, GetAccountAuthorizationDetails, the policy simulator), :mod:`mfa` (MFA
devices), :mod:`server_certificates`, :mod:`user_credentials` (signing certificates, SSH keys,
service-specific credentials), :mod:`credential_report`, :mod:`resource_tags` (tags of
instance profiles and OIDC/SAML providers), :mod:`access_reports` (policies granting a
service, service-last-accessed reports) and :mod:`organizations` (root-access management, which
answers as for a standalone account). State layout is in
:mod:`store`; what the auth layer reads (keys -> principals -> policies) is :mod:`principals`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from awsemu.services.base import Provider
from awsemu.services.iam.access_reports import AccessReportsMixin
from awsemu.services.iam.credential_report import CredentialReportMixin
from awsemu.services.iam.entities import EntitiesMixin
from awsemu.services.iam.extras import ExtrasMixin
from awsemu.services.iam.mfa import MfaMixin
from awsemu.services.iam.organizations import OrganizationsMixin
from awsemu.services.iam.policies import PoliciesMixin
from awsemu.services.iam.principals import Principals
from awsemu.services.iam.resource_tags import ResourceTagsMixin
from awsemu.services.iam.server_certificates import ServerCertificatesMixin
from awsemu.services.iam.store import IamStore
from awsemu.services.iam.user_credentials import UserCredentialsMixin

if TYPE_CHECKING:
    from awsemu.config import Config
    from awsemu.storage import Storage


class IamProvider(EntitiesMixin, PoliciesMixin, ExtrasMixin, MfaMixin, ServerCertificatesMixin, UserCredentialsMixin,
                  CredentialReportMixin, ResourceTagsMixin, AccessReportsMixin, OrganizationsMixin, Provider):
    service_name = "iam"

    def __init__(self, storage: "Storage", config: "Config") -> None:
        super().__init__(storage, config)
        self.store = IamStore(storage.db)
        self.lock = threading.RLock()
        self.principals = Principals(self.store)
        # The two callables the auth layer is wired with (see awsemu/auth/enforcement.py).
        self.credential_lookup = self.principals.credential_lookup
        self.policies_for = self.principals.policies_for

    def resource_policy(self, arn: str) -> tuple[str | None, str] | None:
        """The resource-based policy of an IAM resource for the auth layer: a role's trust policy."""
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[5].startswith("role/"):
            role = self.store.get("r", parts[4], parts[5].rsplit("/", 1)[-1])
            if role is not None:
                return role["AssumeRolePolicyDocument"], parts[4]
        return None

    def reset(self) -> None:
        self.store.wipe()
