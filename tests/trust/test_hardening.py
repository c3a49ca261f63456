"""Hardening: the Content-Security-Policy and the templates it relies on, login throttling, API and CSAT rate
limits, revocable API tokens, TOTP two-factor for leads and admins, the audit log's admin page."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.throttling import UserRateThrottle

from metrics.models import CsatSurvey
from metrics.services.csat import survey_token
from tests.factories import QueueFactory, TicketFactory, UserFactory, associate
from tickets.models import AuditLog, Role

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


# Content-Security-Policy


def test_pages_carry_a_policy_without_inline_script_or_style(client):
    queue = QueueFactory(slug="suporte")
    ticket = TicketFactory(queue=queue)
    client.force_login(associate([queue], username="ana"))
    for url in ["/", reverse("ticket", args=[ticket.number]), reverse("login"), "/metrics/me/"]:
        policy = _directives(client.get(url)["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
HTMX_EVAL = re.compile(r"\bhx-on|\bhx-vars|js:", re.IGNORECASE)


def test_no_template_has_inline_script_event_handlers_or_style_attributes():
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for name, pattern in [
            ("inline <script>", INLINE_SCRIPT),
            ("event handler", EVENT_HANDLER),
            ("style attribute", STYLE_ATTRIBUTE),
            ("htmx eval", HTMX_EVAL),
        ]:
            if pattern.search(text):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert not offenders, offenders


def test_our_javascript_does_not_evaluate_strings_or_write_inline_handlers():
    for path in sorted((ROOT / "static" / "js").glob("*.js")):
        text = path.read_text()
        assert not re.search(r"\beval\(|new Function\(|setAttribute\(\s*['\"]on", text), path.name


def test_htmx_is_told_not_to_inject_its_indicator_styles(client):
    client.force_login(UserFactory(username="ana"))
    assert '"includeIndicatorStyles": false' in client.get("/").content.decode()


def test_swagger_ui_loads_its_start_up_script_as_a_file(client):
    client.force_login(UserFactory(username="ana"))
    html = client.get("/api/docs/").content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert client.get("/api/docs/?script=").status_code == 200


# Login throttling


def test_login_locks_after_five_failures_even_with_the_right_password(client, settings):
    UserFactory(username="ana")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "ana", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    assert client.post(reverse("login"), {"username": "ana", "password": "wrong"}).status_code == 429
    response = client.post(reverse("login"), {"username": "ana", "password": "secret-pass-123"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not locked out.
    UserFactory(username="bia")
    assert client.post(reverse("login"), {"username": "bia", "password": "secret-pass-123"}).status_code == 302


# Rate limits


def test_the_api_answers_429_past_the_per_user_rate(client, monkeypatch, clear_cache):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "3/minute"})
    client.force_login(UserFactory(username="ana"))
    statuses = [client.get("/api/v1/queues/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_public_csat_page_answers_429_past_its_rate(client, settings, clear_cache):
    settings.ACOLHE_CSAT_RATE_PER_MINUTE = 3
    ticket = TicketFactory()
    survey = CsatSurvey.objects.create(ticket=ticket)
    url = reverse("metrics:csat", args=[survey_token(survey)])
    statuses = [client.get(url, REMOTE_ADDR="198.51.100.7").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get(url, REMOTE_ADDR="198.51.100.8").status_code == 200  # per client address


# API tokens


def test_a_user_creates_an_api_token_once_sees_it_and_can_revoke_it(client):
    queue = QueueFactory(slug="suporte")
    user = associate([queue], username="ana")
    client.force_login(user)
    page = client.post(reverse("account_tokens"), {"action": "create"}).content.decode()
    key = re.search(r'data-testid="new-token">([0-9a-f]{40})<', page).group(1)
    api = type(client)(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/queues/").status_code == 200
    assert key not in client.get(reverse("account_tokens")).content.decode()  # shown once
    client.post(reverse("account_tokens"), {"action": "revoke"})
    assert api.get("/api/v1/queues/").status_code in (401, 403)
    assert list(AuditLog.objects.filter(actor=user).values_list("action", flat=True).order_by("id")) == [
        AuditLog.Action.TOKEN_CREATED,
        AuditLog.Action.TOKEN_REVOKED,
    ]


# Two-factor


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_a_lead_enrols_in_two_factor_and_then_needs_a_code_at_login(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code would otherwise make the next one wait a second
    lead = UserFactory(username="lider", role=Role.TEAM_LEAD)
    client.force_login(lead)
    assert "data:image/svg+xml" in client.get(reverse("two_factor")).content.decode()
    device = TOTPDevice.objects.get(user=lead, confirmed=False)
    wrong = "000000" if _code(device) != "000000" else "111111"
    assert 'role="alert"' in client.post(reverse("two_factor"), {"code": wrong}).content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    client.post(reverse("two_factor"), {"code": _code(device)})
    assert TOTPDevice.objects.get(user=lead).confirmed

    client.logout()
    response = client.post(reverse("login"), {"username": "lider", "password": "secret-pass-123"})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith(reverse("two_factor_verify"))
    assert client.get("/api/v1/queues/").status_code == 403
    device.refresh_from_db()
    # A used code cannot be replayed; the next time step gives a fresh one.
    device.last_t = -1
    device.save()
    response = client.post(reverse("two_factor_verify"), {"code": _code(device), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_associates_cannot_open_the_two_factor_page(client):
    client.force_login(associate([], username="ana"))
    assert client.get(reverse("two_factor")).status_code == 403


# Audit log in the admin


def test_only_admins_read_the_audit_log_and_nobody_edits_it(client):
    entry = AuditLog.objects.create(action=AuditLog.Action.REQUESTER_EXPORTED, target="requester:1")
    lead = UserFactory(username="lider", role=Role.TEAM_LEAD, is_staff=True)
    client.force_login(lead)
    assert client.get(reverse("admin:tickets_auditlog_changelist")).status_code == 403
    admin = UserFactory(username="root", role=Role.ADMIN, is_staff=True)
    client.force_login(admin)
    assert client.get(reverse("admin:tickets_auditlog_changelist")).status_code == 200
    assert client.post(reverse("admin:tickets_auditlog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    with pytest.raises(ValueError):
        entry.delete()


def test_production_settings_turn_on_secure_cookies_and_hsts():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.SECURE_CONTENT_TYPE_NOSNIFF)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("ACOLHE_DEVELOPMENT", "DEBUG", "SECURE_COOKIES")}
    env.update(SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="helpdesk.settings")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.split()[-4:] == ["True", "True", "True", "True"]
