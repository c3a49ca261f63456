"""Account security: API tokens a user can create and revoke, TOTP two-factor for leads, specialists and admins.

Every session creation goes through Django's `login()`, which sends `user_logged_in`; `on_user_logged_in`
(connected in `AccountsConfig.ready`) marks the session as owing a code when the user has an authenticator,
or owing an enrolment when their role must have one, whatever view signed them in (the app's login, the
admin's, a future SSO). `TwoFactorMiddleware` lets such a session reach only the verification or the
enrolment page.

Names: every action is the signed-in user's on their own account, passed as `actor`, keyword-only; the
predicates (`must_use_two_factor`, `has_two_factor`, ...) read a `user`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from tickets import audit, selectors
from tickets.models import AuditLog, Role

# Set at password login for a user with a confirmed authenticator; cleared once the code is checked.
SESSION_OTP_PENDING = "acolhe_otp_pending"
# Set at login for a user whose role must have two-factor and who has no authenticator yet; cleared once
# they confirm one.
SESSION_ENROLMENT_PENDING = "acolhe_otp_enrolment_pending"


def must_use_two_factor(user: User) -> bool:
    """The user's role is listed in `ACOLHE_TWO_FACTOR_REQUIRED_ROLES` (superusers count as admins)."""
    required = set(settings.ACOLHE_TWO_FACTOR_REQUIRED_ROLES)
    if not required or not user.is_authenticated:
        return False
    if Role.ADMIN in required and selectors.is_admin(user):
        return True
    return any(selectors.has_role(user, role) for role in required)


def may_use_two_factor(user: User) -> bool:
    return (
        selectors.is_admin(user)
        or selectors.has_role(user, Role.TEAM_LEAD)
        or selectors.has_role(user, Role.SPECIALIST)
        or must_use_two_factor(user)
    )


def has_two_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def session_is_verified(request, user: User) -> bool:
    """The session gave a code in this login, or the user has no authenticator and needs none."""
    if request is None:
        return False
    if request.session.get(SESSION_OTP_PENDING) or request.session.get(SESSION_ENROLMENT_PENDING):
        return False
    if has_two_factor(user) or must_use_two_factor(user):
        return bool(getattr(request.user, "is_verified", lambda: False)())
    return True


def on_user_logged_in(sender, request, user: User, **kwargs) -> None:
    """Receiver of `user_logged_in`: every new session of a user with an authenticator owes a code, and
    one of a user whose role must have two-factor owes an enrolment."""
    if request is None or not hasattr(request, "session"):
        return
    request.session.pop(SESSION_OTP_PENDING, None)
    request.session.pop(SESSION_ENROLMENT_PENDING, None)
    if has_two_factor(user):
        request.session[SESSION_OTP_PENDING] = True
    elif must_use_two_factor(user):
        request.session[SESSION_ENROLMENT_PENDING] = True


@transaction.atomic
def create_token(*, actor: User, request=None) -> str:
    """Issue a new API token for the user, revoking the one they had. The key is shown once. Only from a
    session that gave its second factor (when the user has or needs one): a token skips the code."""
    if not session_is_verified(request, actor):
        raise PermissionDenied(_("Sign in with your two-factor code before creating an API token."))
    Token.objects.filter(user=actor).delete()
    token = Token.objects.create(user=actor)
    audit.record(actor, AuditLog.Action.TOKEN_CREATED, request=request, target=f"user:{actor.pk}")
    return token.key


@transaction.atomic
def revoke_token(*, actor: User, request=None) -> bool:
    deleted, _ = Token.objects.filter(user=actor).delete()
    if deleted:
        audit.record(actor, AuditLog.Action.TOKEN_REVOKED, request=request, target=f"user:{actor.pk}")
    return bool(deleted)


def pending_device(*, actor: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (one per user), created on first use."""
    device = TOTPDevice.objects.filter(user=actor, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=actor, name="Acolhe", confirmed=False)


@transaction.atomic
def confirm_device(request, code: str, *, actor: User) -> bool:
    """Confirm the pending authenticator with a first code; the session counts as verified."""
    device = pending_device(actor=actor)
    if not device.verify_token(code.strip()):
        return False
    TOTPDevice.objects.filter(user=actor, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    request.session.pop(SESSION_OTP_PENDING, None)
    request.session.pop(SESSION_ENROLMENT_PENDING, None)
    audit.record(actor, AuditLog.Action.TWO_FACTOR_ENABLED, request=request, target=f"user:{actor.pk}")
    return True


def _matching_device(user: User, code: str) -> TOTPDevice | None:
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if device.verify_token((code or "").strip()):
            return device
    return None


@transaction.atomic
def disable_two_factor(request, code: str, *, actor: User) -> None:
    """Turn two-factor off: takes a current code, and is refused to a role that must have it."""
    if must_use_two_factor(actor):
        raise PermissionDenied(_("Your role must sign in with two-factor; it cannot be turned off."))
    if _matching_device(actor, code) is None:
        raise ValidationError(_("That code is not right. Check the time on your phone and try again."))
    TOTPDevice.objects.filter(user=actor).delete()
    request.session.pop(SESSION_OTP_PENDING, None)
    audit.record(actor, AuditLog.Action.TWO_FACTOR_DISABLED, request=request, target=f"user:{actor.pk}")


def verify_code(request, code: str, *, actor: User) -> bool:
    device = _matching_device(actor, code)
    if device is None:
        return False
    otp_login(request, device)
    request.session.pop(SESSION_OTP_PENDING, None)
    return True
