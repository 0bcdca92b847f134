"""MFA devices: virtual (TOTP seeds we mint) and hardware (serials we are told), and the code check
STS uses for ``SerialNumber``/``TokenCode``.

State: one record per device, ``iam mfa <account> <serial>``, holding the seed (virtual devices),
the user it is enabled for, the enable date, tags and the clock drift learned at enable/resync (in
30 s steps). The last step whose code was accepted (a code is good once) is a record of its own,
``iam mfastep <account> <serial>``: STS writes only that one, so it never rewrites a device record
the IAM provider may be changing under its own lock. The user's record
lists the serials enabled for it (``mfa``), so deleting a user, the credential report and
ListMFADevices need no scan. A virtual device exists unassigned from CreateVirtualMFADevice on; a
hardware device exists only while enabled (its seed lives with the vendor, so its codes are taken
as given: six digits each, two different ones).

CreateVirtualMFADevice returns both forms AWS gives: the Base32 seed and a QR code (PNG, drawn by
``segno``) of ``otpauth://totp/<device name>@<user name or account id>?secret=<seed>``, the URI an
authenticator app scans.
"""

from __future__ import annotations

import io
import re
import threading
from typing import Any
from urllib.parse import quote

import segno

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.iam import totp
from awsemu.services.iam.common import (
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
    check_tags,
    merge_tags,
    now,
    page,
    remove_tags,
    validate_path,
)
from awsemu.services.iam.store import IamStore

MAX_MFA_DEVICES_PER_USER = 8
ENABLE_WINDOW_STEPS = 10   # two fresh codes from a device up to 5 min off the server clock
RESYNC_WINDOW_STEPS = 240  # resync exists for drifted devices: up to 2 h either way
_CODE = re.compile(r"^\d{6}$")
_DEVICE_NAME = re.compile(r"^[\w+=,.@-]{1,226}$")



def otpauth_uri(device_name: str, holder: str, seed: str) -> str:
    """The URI AWS encodes in QRCodePNG (IAM API reference, VirtualMFADevice)."""
    return f"otpauth://totp/{quote(device_name, safe='')}@{quote(holder, safe='')}?secret={seed}"


def qr_code_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=4, border=4)
    return buffer.getvalue()

class InvalidAuthenticationCode(ServiceError):
    code = "InvalidAuthenticationCode"
    status = 403


def _bad_code() -> InvalidAuthenticationCode:
    return InvalidAuthenticationCode("Authentication code for device is not valid.")


def _check_code_shape(value: str, field: str) -> None:
    if not _CODE.match(value or ""):
        raise ValidationError(f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
                              "constraint: Member must satisfy regular expression pattern: [\\d]+ and have length 6")


def check_token_code(store: IamStore, account: str, user_name: str, serial: str, code: str) -> dict[str, Any] | None:
    """STS's check of ``SerialNumber``/``TokenCode`` for a caller that is IAM user ``user_name``.

    Returns the device record after recording the used step, or None when the device is unknown or
    not enabled for that user, or the code is wrong / already used (the callers word the errors)."""
    device = store.get("mfa", account, serial)
    if device is None or device.get("user") is None or device["user"].lower() != user_name.lower():
        return None
    if not _CODE.match(code or ""):
        return None
    if not device.get("seed"):
        return device  # hardware token: the vendor holds the seed
    center = totp.step_at() + device.get("drift", 0)
    used = store.get("mfastep", account, serial)
    step = totp.find_code(device["seed"], code, center, used["step"] if used else None)
    if step is None:
        return None
    store.put("mfastep", account, serial, {"step": step})
    return device


class MfaMixin:
    store: IamStore
    lock: threading.RLock

    # -- lookups -------------------------------------------------------------------------------
    def _device(self, ctx: CallContext, serial: str) -> dict[str, Any] | None:
        return self.store.get("mfa", ctx.account_id, serial)

    def _virtual_device(self, ctx: CallContext, serial: str) -> dict[str, Any]:
        device = self._device(ctx, serial)
        if device is None or not device.get("virtual"):
            raise NoSuchEntity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
        return device

    def _enabled_device(self, ctx: CallContext, user: dict[str, Any], serial: str) -> dict[str, Any]:
        device = self._device(ctx, serial)
        if device is None or (device.get("user") or "").lower() != user["UserName"].lower():
            raise NoSuchEntity(f"MFA Device with serial number {serial} does not exist.")
        return device

    def _mfa_user(self, ctx: CallContext, user_name: str | None) -> dict[str, Any]:
        name = self._caller_user(ctx, user_name)  # type: ignore[attr-defined]
        if name is None:
            raise ValidationError("MFA devices of the root user are managed in the console, not through IAM.")
        return self._entity("user", ctx.account_id, name)  # type: ignore[attr-defined,no-any-return]

    def _accept_code_pair(self, ctx: CallContext, device: dict[str, Any], code1: str, code2: str,
                          window: int) -> None:
        """Two consecutive codes of a virtual device within ``window`` steps of now: learn the
        device's clock drift from them and mark both used (a code is good once)."""
        center = totp.step_at()
        step = totp.find_pair(device["seed"], code1, code2, center, window)
        if step is None:
            raise _bad_code()
        device["drift"] = step + 1 - center
        self.store.put("mfastep", ctx.account_id, device["SerialNumber"], {"step": step + 1})

    # -- virtual devices -----------------------------------------------------------------------
    def create_virtual_mfa_device(self, ctx: CallContext, VirtualMFADeviceName: str, Path: str | None = None,
                                  Tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        if not _DEVICE_NAME.match(VirtualMFADeviceName):
            raise ValidationError(f"1 validation error detected: Value '{VirtualMFADeviceName}' at 'virtualMFADeviceName' "
                                  "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                                  "[\\w+=,.@-]+")
        path = validate_path(Path)
        serial = f"arn:aws:iam::{ctx.account_id}:mfa{path}{VirtualMFADeviceName}"
        tags = check_tags(Tags)
        with self.lock:
            if self._device(ctx, serial) is not None:
                raise EntityAlreadyExists("MFADevice entity at the same path and name already exists.")
            seed = totp.new_seed()
            record = {"SerialNumber": serial, "Path": path, "name": VirtualMFADeviceName, "virtual": True,
                      "seed": seed, "user": None, "EnableDate": None, "Tags": tags, "CreateDate": now(),
                      "drift": 0}
            self.store.put("mfa", ctx.account_id, serial, record)
        holder = self._caller_user(ctx, None) or ctx.account_id  # type: ignore[attr-defined]
        out: dict[str, Any] = {"SerialNumber": serial, "Base32StringSeed": seed.encode("ascii"),
                               "QRCodePNG": qr_code_png(otpauth_uri(VirtualMFADeviceName, holder, seed))}
        if tags:
            out["Tags"] = tags
        return {"VirtualMFADevice": out}

    def delete_virtual_mfa_device(self, ctx: CallContext, SerialNumber: str) -> dict[str, Any]:
        with self.lock:
            device = self._virtual_device(ctx, SerialNumber)
            if device.get("user"):
                raise DeleteConflict("MFA device is still in use.")
            self.store.delete("mfa", ctx.account_id, SerialNumber)
        return {}

    def list_virtual_mfa_devices(self, ctx: CallContext, AssignmentStatus: str | None = None, Marker: str | None = None,
                                 MaxItems: int | None = None) -> dict[str, Any]:
        status = AssignmentStatus or "Any"
        devices = [d for d in self.store.scan("mfa", ctx.account_id) if d.get("virtual")]
        if status == "Assigned":
            devices = [d for d in devices if d.get("user")]
        elif status == "Unassigned":
            devices = [d for d in devices if not d.get("user")]
        chosen, meta = page(devices, Marker, MaxItems, lambda d: d["SerialNumber"])
        out = []
        for d in chosen:
            item: dict[str, Any] = {"SerialNumber": d["SerialNumber"]}
            user = self.store.get("u", ctx.account_id, d["user"]) if d.get("user") else None
            if user is not None:
                item["User"] = self._public(user, False)  # type: ignore[attr-defined]
                item["EnableDate"] = d["EnableDate"]
            out.append(item)
        return {"VirtualMFADevices": out, **meta}

    # -- enable / deactivate / resync ----------------------------------------------------------
    def enable_mfa_device(self, ctx: CallContext, UserName: str, SerialNumber: str, AuthenticationCode1: str,
                          AuthenticationCode2: str) -> dict[str, Any]:
        _check_code_shape(AuthenticationCode1, "authenticationCode1")
        _check_code_shape(AuthenticationCode2, "authenticationCode2")
        with self.lock:
            user = self._entity("user", ctx.account_id, UserName)  # type: ignore[attr-defined]
            device = self._device(ctx, SerialNumber)
            if device is None and f":{ctx.account_id}:mfa/" in SerialNumber:
                raise NoSuchEntity(f"VirtualMFADevice with serial number {SerialNumber} doesn't exist.")
            if device is not None and device.get("user"):
                raise EntityAlreadyExists("MFA Device is already in use.")
            if len(user.get("mfa", [])) >= MAX_MFA_DEVICES_PER_USER:
                raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {MAX_MFA_DEVICES_PER_USER}")
            if device is None:  # a hardware token
                if AuthenticationCode1 == AuthenticationCode2:
                    raise _bad_code()
                device = {"SerialNumber": SerialNumber, "virtual": False, "seed": None, "Tags": [], "drift": 0}
            else:
                self._accept_code_pair(ctx, device, AuthenticationCode1, AuthenticationCode2, ENABLE_WINDOW_STEPS)
            device["user"] = user["UserName"]
            device["EnableDate"] = now()
            self.store.put("mfa", ctx.account_id, SerialNumber, device)
            user["mfa"] = [*user.get("mfa", []), SerialNumber]
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {}

    def deactivate_mfa_device(self, ctx: CallContext, SerialNumber: str, UserName: str | None = None) -> dict[str, Any]:
        with self.lock:
            user = self._mfa_user(ctx, UserName)
            device = self._enabled_device(ctx, user, SerialNumber)
            if device.get("virtual"):
                device.update({"user": None, "EnableDate": None, "drift": 0})
                self.store.put("mfa", ctx.account_id, SerialNumber, device)
            else:
                self.store.delete("mfa", ctx.account_id, SerialNumber)
            self.store.delete("mfastep", ctx.account_id, SerialNumber)
            user["mfa"] = [s for s in user.get("mfa", []) if s != SerialNumber]
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {}

    def resync_mfa_device(self, ctx: CallContext, UserName: str, SerialNumber: str, AuthenticationCode1: str,
                          AuthenticationCode2: str) -> dict[str, Any]:
        _check_code_shape(AuthenticationCode1, "authenticationCode1")
        _check_code_shape(AuthenticationCode2, "authenticationCode2")
        with self.lock:
            user = self._entity("user", ctx.account_id, UserName)  # type: ignore[attr-defined]
            device = self._enabled_device(ctx, user, SerialNumber)
            if device.get("seed"):
                self._accept_code_pair(ctx, device, AuthenticationCode1, AuthenticationCode2, RESYNC_WINDOW_STEPS)
            elif AuthenticationCode1 == AuthenticationCode2:
                raise _bad_code()
            self.store.put("mfa", ctx.account_id, SerialNumber, device)
        return {}

    # -- reading -------------------------------------------------------------------------------
    def list_mfa_devices(self, ctx: CallContext, UserName: str | None = None, Marker: str | None = None,
                         MaxItems: int | None = None) -> dict[str, Any]:
        name = self._caller_user(ctx, UserName)  # type: ignore[attr-defined]
        if name is None:
            return {"MFADevices": [], "IsTruncated": False}
        user = self._entity("user", ctx.account_id, name)  # type: ignore[attr-defined]
        devices = [d for d in (self._device(ctx, s) for s in user.get("mfa", [])) if d is not None]
        chosen, meta = page(devices, Marker, MaxItems, lambda d: d["SerialNumber"])
        return {"MFADevices": [{"UserName": user["UserName"], "SerialNumber": d["SerialNumber"],
                                "EnableDate": d["EnableDate"]} for d in chosen], **meta}

    def get_mfa_device(self, ctx: CallContext, SerialNumber: str, UserName: str | None = None) -> dict[str, Any]:
        user = self._mfa_user(ctx, UserName)
        device = self._enabled_device(ctx, user, SerialNumber)
        return {"UserName": user["UserName"], "SerialNumber": SerialNumber, "EnableDate": device["EnableDate"]}

    # -- tags ----------------------------------------------------------------------------------
    def tag_mfa_device(self, ctx: CallContext, SerialNumber: str, Tags: list[dict[str, str]]) -> dict[str, Any]:
        return self._retag(ctx, "mfa", SerialNumber, lambda t: merge_tags(t, Tags))  # type: ignore[attr-defined,no-any-return]

    def untag_mfa_device(self, ctx: CallContext, SerialNumber: str, TagKeys: list[str]) -> dict[str, Any]:
        return self._retag(ctx, "mfa", SerialNumber, lambda t: remove_tags(t, TagKeys))  # type: ignore[attr-defined,no-any-return]

    def list_mfa_device_tags(self, ctx: CallContext, SerialNumber: str, Marker: str | None = None,
                             MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_tags(ctx, "mfa", SerialNumber, Marker, MaxItems)  # type: ignore[attr-defined,no-any-return]
