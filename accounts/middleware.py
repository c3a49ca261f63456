import zoneinfo

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.services import SESSION_ENROLMENT_PENDING, SESSION_OTP_PENDING

SESSION_TIMEZONE_KEY = "acolhe_timezone"

# Reachable before the second factor is given.
OPEN_PREFIXES = ("/static/", "/healthz", "/anymail/", "/logout/", "/language/", "/account/2fa/verify/")
# Reachable by a session that must first enrol an authenticator.
ENROLMENT_PREFIXES = ("/static/", "/healthz", "/anymail/", "/logout/", "/language/", "/account/2fa/")


class TwoFactorMiddleware:
    """A session whose login still owes a TOTP code reaches only the verification page; one whose role must
    have two-factor and has none yet reaches only the enrolment page. Both flags are set at any login
    (`services.on_user_logged_in`), so the admin's login page cannot skip them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_OTP_PENDING) and not request.path.startswith(OPEN_PREFIXES):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Two-factor verification required."}, status=403)
            return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': request.get_full_path()})}")
        if (
            session is not None
            and session.get(SESSION_ENROLMENT_PENDING)
            and not request.path.startswith(ENROLMENT_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Two-factor enrolment required."}, status=403)
            return redirect(reverse("two_factor"))
        return self.get_response(request)


class UserPreferencesMiddleware:
    """Show dates in the signed-in user's time zone, kept in the session at login (the site default,
    America/Sao_Paulo, otherwise)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz_name = request.session.get(SESSION_TIMEZONE_KEY) if hasattr(request, "session") else None
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name)) if tz_name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)
