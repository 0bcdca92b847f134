"""What an access key signs for: the record the IAM/STS providers hand to the auth layer.

It lives here, below auth in the layer order (gateway -> auth -> protocol -> services), so the
providers that mint keys and the verifier that reads them share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class KeyRecord:
    access_key_id: str
    secret_access_key: str
    account_id: str
    # arn:aws:iam::123456789012:root | :user/path/name | arn:aws:sts::...:assumed-role/Role/session
    principal_arn: str
    # What GetCallerIdentity reports as UserId: the account id for root, AIDA... for users,
    # AROA...:session for assumed roles, account:name for federated users.
    user_id: str
    # root | user | assumed-role | federated-user | session (GetSessionToken of a user or root)
    kind: str = "root"
    session_token: str = ""
    expires_at: float | None = None  # epoch seconds; None = never
    active: bool = True
    # Opaque to auth: what the policy lookup needs to find the principal's policies
    # (e.g. ("user", "alice") or ("role", "Admin")).
    principal_ref: tuple[str, ...] = ()
    # Session policies (JSON texts) of temporary credentials, and their session tags.
    session_policies: tuple[str, ...] = ()
    session_tags: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    # Scope-down policies (STS GetScopedCredentials), one layer each: every layer must allow.
    scope_policies: tuple[str, ...] = ()

    @property
    def is_root(self) -> bool:
        return self.kind == "root"
