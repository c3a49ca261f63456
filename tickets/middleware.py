import zoneinfo

from django.utils import timezone

SESSION_TIMEZONE_KEY = "acolhe_timezone"


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
