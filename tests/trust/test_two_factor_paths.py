"""The second factor on every path that creates a session: the app's login, the admin's login, and any
other `login()`; required roles cannot skip enrolment; turning it off takes a code; API tokens only from a
verified session."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from tests.factories import QueueFactory, TicketFactory, UserFactory
from tickets.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Acolhe", confirmed=True)


def _code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    # A code of a time step already used is refused (replay); tests that need a second code start afresh.
    device.last_t = -1
    device.save(update_fields=["last_t"])
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _wrong(device: TOTPDevice) -> str:
    right = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    return "000000" if right != "000000" else "111111"


def test_the_admin_login_page_owes_the_code_like_the_app_login(client):
    admin = UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    device = _enrolled(admin)
    ticket = TicketFactory(queue=QueueFactory(slug="suporte"))

    response = client.post(
        reverse("admin:login"), {"username": "root", "password": "secret-pass-123", "next": "/admin/"}
    )
    assert response.status_code == 302

    # Password alone: the admin, the workspace and the API all wait for the code.
    changelist = client.get(reverse("admin:tickets_ticket_changelist"))
    assert changelist.status_code == 302
    assert changelist["Location"].startswith(reverse("two_factor_verify"))
    assert client.get(reverse("ticket", args=[ticket.number])).status_code == 302
    assert client.get("/api/v1/queues/").status_code == 403

    verified = client.post(reverse("two_factor_verify"), {"code": _code(device), "next": "/admin/"})
    assert verified.status_code == 302 and verified["Location"] == "/admin/"
    assert client.get(reverse("admin:tickets_ticket_changelist")).status_code == 200


def test_any_session_creation_owes_the_code(client):
    lead = UserFactory(username="lider", role=Role.TEAM_LEAD)
    _enrolled(lead)
    # `force_login` goes through `login()` without any view of ours: the signal still asks for the code.
    client.force_login(lead)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor_verify"))


def test_a_role_that_must_have_two_factor_reaches_only_the_enrolment_page(client, settings):
    settings.ACOLHE_TWO_FACTOR_REQUIRED_ROLES = [Role.ADMIN]
    UserFactory(username="root", role=Role.ADMIN, is_staff=True)
    client.post(reverse("admin:login"), {"username": "root", "password": "secret-pass-123", "next": "/admin/"})

    for url in ["/", reverse("admin:index"), reverse("account_tokens")]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("two_factor"), url
    assert client.get("/api/v1/queues/").status_code == 403
    page = client.get(reverse("two_factor"))
    assert page.status_code == 200 and "data:image/svg+xml" in page.content.decode()

    device = TOTPDevice.objects.get(user__username="root", confirmed=False)
    client.post(reverse("two_factor"), {"action": "enable", "code": _code(device)})
    assert client.get("/").status_code == 200


def test_a_role_that_must_have_two_factor_cannot_turn_it_off(client, settings):
    settings.ACOLHE_TWO_FACTOR_REQUIRED_ROLES = [Role.ADMIN]
    admin = UserFactory(username="root", role=Role.ADMIN)
    device = _enrolled(admin)
    client.force_login(admin)
    client.post(reverse("two_factor_verify"), {"code": _code(device), "next": "/"})

    client.post(reverse("two_factor"), {"action": "disable", "code": _code(device)})
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).exists()


def test_turning_two_factor_off_takes_a_current_code(client):
    lead = UserFactory(username="lider", role=Role.TEAM_LEAD)
    device = _enrolled(lead)
    client.force_login(lead)
    client.post(reverse("two_factor_verify"), {"code": _code(device), "next": "/"})

    without = client.post(reverse("two_factor"), {"action": "disable"})
    assert without.status_code == 200
    assert TOTPDevice.objects.filter(user=lead).exists()
    wrong = client.post(reverse("two_factor"), {"action": "disable", "code": _wrong(device)})
    assert 'role="alert"' in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=lead).exists()

    client.post(reverse("two_factor"), {"action": "disable", "code": _code(device)})
    assert not TOTPDevice.objects.filter(user=lead).exists()


def test_an_api_token_is_created_only_from_a_verified_session(client):
    lead = UserFactory(username="lider", role=Role.TEAM_LEAD)
    device = _enrolled(lead)
    client.force_login(lead)

    # Straight at the token page with the code still owed: the middleware sends the session to verify.
    response = client.post(reverse("account_tokens"), {"action": "create"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("two_factor_verify"))
    assert not Token.objects.filter(user=lead).exists()

    client.post(reverse("two_factor_verify"), {"code": _code(device), "next": "/"})
    page = client.post(reverse("account_tokens"), {"action": "create"})
    assert page.status_code == 200
    assert Token.objects.filter(user=lead).exists()


def test_the_token_service_refuses_a_session_that_did_not_give_its_code(rf):
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.exceptions import PermissionDenied

    from accounts import services

    lead = UserFactory(username="lider", role=Role.TEAM_LEAD)
    _enrolled(lead)
    request = rf.post("/account/tokens/")
    request.session = SessionStore()
    request.user = lead  # a session that never went through the OTP middleware: not verified
    with pytest.raises(PermissionDenied):
        services.create_token(actor=lead, request=request)
    with pytest.raises(PermissionDenied):
        services.create_token(actor=lead)
    assert not Token.objects.filter(user=lead).exists()


def test_a_user_without_two_factor_signs_in_as_before(client):
    user = UserFactory(username="ana", role=Role.ASSOCIATE)
    client.post(reverse("login"), {"username": "ana", "password": "secret-pass-123"})
    assert client.get("/").status_code == 200
    assert client.post(reverse("account_tokens"), {"action": "create"}).status_code == 200
    assert Token.objects.filter(user=user).exists()
