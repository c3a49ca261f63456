"""Signing in, and the interface language a user picks: kept in a cookie and on the profile."""

import pytest
from django.urls import reverse

from tests.factories import associate
from tickets.models import Profile

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("language", "title", "button"), [("pt-br", "Entrar no Acolhe", "Entrar"), ("en", "Sign in to Acolhe", "Sign in")]
)
def test_login_page_speaks_both_languages(client, settings, language, title, button):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(reverse("login")).content.decode()
    assert title in html
    assert f">{button}</button>" in html


def test_login_with_wrong_password_says_so(client):
    associate(username="ana")
    response = client.post(reverse("login"), {"username": "ana", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_language_switch_persists_on_the_profile_and_comes_back_at_next_login(client, settings):
    user = associate(username="bia")
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert Profile.objects.get(user=user).ui_language == "en"
    client.logout()
    client.cookies.clear()
    response = client.post(reverse("login"), {"username": "bia", "password": "secret-pass-123"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_language_switch_ignores_foreign_redirects(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"
