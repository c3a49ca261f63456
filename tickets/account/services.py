"""Account security: API tokens a user can create and revoke, optional TOTP two-factor for leads and admins."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from tickets import audit, selectors
from tickets.models import AuditLog, Role

# Set at password login for a user with a confirmed authenticator; cleared once the code is checked.
SESSION_OTP_PENDING = "acolhe_otp_pending"


def may_use_two_factor(user: AbstractBaseUser) -> bool:
    return selectors.is_admin(user) or selectors.has_role(user, Role.TEAM_LEAD)


def has_two_factor(user: AbstractBaseUser) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def create_token(user: AbstractBaseUser, request=None) -> str:
    """Issue a new API token for the user, revoking the one they had. The key is shown once."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    audit.record(user, AuditLog.Action.TOKEN_CREATED, request=request, target=f"user:{user.pk}")
    return token.key


@transaction.atomic
def revoke_token(user: AbstractBaseUser, request=None) -> bool:
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        audit.record(user, AuditLog.Action.TOKEN_REVOKED, request=request, target=f"user:{user.pk}")
    return bool(deleted)


def pending_device(user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (one per user), created on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Acolhe", confirmed=False)


@transaction.atomic
def confirm_device(request, user: AbstractBaseUser, code: str) -> bool:
    """Confirm the pending authenticator with a first code; the session counts as verified."""
    device = pending_device(user)
    if not device.verify_token(code.strip()):
        return False
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    request.session.pop(SESSION_OTP_PENDING, None)
    audit.record(user, AuditLog.Action.TWO_FACTOR_ENABLED, request=request, target=f"user:{user.pk}")
    return True


@transaction.atomic
def disable_two_factor(request, user: AbstractBaseUser) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    request.session.pop(SESSION_OTP_PENDING, None)
    audit.record(user, AuditLog.Action.TWO_FACTOR_DISABLED, request=request, target=f"user:{user.pk}")


def after_password_login(request, user: AbstractBaseUser) -> None:
    """Called by the login view: a user with an authenticator must still give a code."""
    if has_two_factor(user):
        request.session[SESSION_OTP_PENDING] = True


def verify_code(request, user: AbstractBaseUser, code: str) -> bool:
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token(code.strip()):
            otp_login(request, device)
            request.session.pop(SESSION_OTP_PENDING, None)
            return True
    return False
