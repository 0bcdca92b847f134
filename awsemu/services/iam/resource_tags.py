"""Tags of the IAM resources that are plain records: instance profiles, OIDC and SAML providers
(here), MFA devices and server certificates (their modules call in). Users, roles and policies tag
themselves in their own modules. Each Tag/Untag/List operation is the same three steps over a
different record kind and lookup, so they share :meth:`ResourceTagsMixin._retag` and ``_list_tags``.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.iam.common import NoSuchEntity, merge_tags, page, remove_tags
from awsemu.services.iam.store import IamStore


class ResourceTagsMixin:
    store: IamStore
    lock: threading.RLock

    # implemented by MfaMixin (mfa.py) and ServerCertificatesMixin (server_certificates.py)
    _virtual_device: Callable[[CallContext, str], dict[str, Any]]
    _server_certificate: Callable[[CallContext, str], dict[str, Any]]

    def _tagged(self, ctx: CallContext, kind: str, name: str) -> dict[str, Any]:
        if kind == "mfa":
            return self._virtual_device(ctx, name)
        if kind == "sc":
            return self._server_certificate(ctx, name)
        record = self.store.get(kind, ctx.account_id, name)
        if record is None:
            raise NoSuchEntity({"ip": f"Instance Profile {name} cannot be found.",
                                "o": f"OpenIDConnect Provider not found for arn {name}",
                                "sp": f"SAMLProvider {name} not found"}[kind])
        return record

    def _retag(self, ctx: CallContext, kind: str, name: str,
               change: Callable[[list[dict[str, str]]], list[dict[str, str]]]) -> dict[str, Any]:
        with self.lock:
            record = self._tagged(ctx, kind, name)
            record["Tags"] = change(record.get("Tags", []))
            self.store.put(kind, ctx.account_id, name, record)
        return {}

    def _list_tags(self, ctx: CallContext, kind: str, name: str, marker: str | None,
                   max_items: int | None) -> dict[str, Any]:
        tags, meta = page(self._tagged(ctx, kind, name).get("Tags", []), marker, max_items, lambda t: t["Key"])
        return {"Tags": tags, **meta}

    # -- instance profiles -------------------------------------------------------------------------
    def tag_instance_profile(self, ctx: CallContext, InstanceProfileName: str, Tags: list[dict[str, str]]) -> dict[str, Any]:
        return self._retag(ctx, "ip", InstanceProfileName, lambda t: merge_tags(t, Tags))

    def untag_instance_profile(self, ctx: CallContext, InstanceProfileName: str, TagKeys: list[str]) -> dict[str, Any]:
        return self._retag(ctx, "ip", InstanceProfileName, lambda t: remove_tags(t, TagKeys))

    def list_instance_profile_tags(self, ctx: CallContext, InstanceProfileName: str, Marker: str | None = None,
                                   MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_tags(ctx, "ip", InstanceProfileName, Marker, MaxItems)

    # -- OIDC providers ----------------------------------------------------------------------------
    def tag_open_id_connect_provider(self, ctx: CallContext, OpenIDConnectProviderArn: str,
                                     Tags: list[dict[str, str]]) -> dict[str, Any]:
        return self._retag(ctx, "o", OpenIDConnectProviderArn, lambda t: merge_tags(t, Tags))

    def untag_open_id_connect_provider(self, ctx: CallContext, OpenIDConnectProviderArn: str,
                                       TagKeys: list[str]) -> dict[str, Any]:
        return self._retag(ctx, "o", OpenIDConnectProviderArn, lambda t: remove_tags(t, TagKeys))

    def list_open_id_connect_provider_tags(self, ctx: CallContext, OpenIDConnectProviderArn: str,
                                           Marker: str | None = None, MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_tags(ctx, "o", OpenIDConnectProviderArn, Marker, MaxItems)

    # -- SAML providers ----------------------------------------------------------------------------
    def tag_saml_provider(self, ctx: CallContext, SAMLProviderArn: str, Tags: list[dict[str, str]]) -> dict[str, Any]:
        return self._retag(ctx, "sp", SAMLProviderArn, lambda t: merge_tags(t, Tags))

    def untag_saml_provider(self, ctx: CallContext, SAMLProviderArn: str, TagKeys: list[str]) -> dict[str, Any]:
        return self._retag(ctx, "sp", SAMLProviderArn, lambda t: remove_tags(t, TagKeys))

    def list_saml_provider_tags(self, ctx: CallContext, SAMLProviderArn: str, Marker: str | None = None,
                                MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_tags(ctx, "sp", SAMLProviderArn, Marker, MaxItems)
