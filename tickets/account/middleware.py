from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from tickets.account.services import SESSION_OTP_PENDING

# Reachable before the second factor is given.
OPEN_PREFIXES = ("/static/", "/healthz", "/anymail/", "/logout/", "/language/", "/account/2fa/verify/")


class TwoFactorMiddleware:
    """A session whose password login still owes a TOTP code reaches only the verification page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_OTP_PENDING) and not request.path.startswith(OPEN_PREFIXES):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Two-factor verification required."}, status=403)
            return redirect(f"{reverse('two_factor_verify')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
