"""Our own error pages, in the reader's language, and a favicon (no 404 on every page)."""

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from tests.factories import QueueFactory, associate

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(client):
    user = associate([QueueFactory(slug="suporte")], username="ana")
    client.force_login(user)
    return user


def use_language(client, language):
    client.post("/language/", {"language": language, "next": "/"})


@pytest.mark.parametrize(("language", "title"), [("pt-br", "Página não encontrada"), ("en", "Page not found")])
def test_a_missing_ticket_shows_our_404_page_in_the_readers_language(client, ana, language, title):
    use_language(client, language)
    page = client.get("/tickets/987654/")
    assert page.status_code == 404
    assert title in page.content.decode()
    assert 'class="topbar"' in page.content.decode()  # with the menu, to go on working


@pytest.mark.parametrize(("language", "title"), [("pt-br", "Não permitido"), ("en", "Not allowed")])
def test_an_associate_opening_the_team_dashboard_gets_our_403_page(client, ana, language, title):
    use_language(client, language)
    page = client.get("/metrics/")
    assert page.status_code == 403
    assert title in page.content.decode()
    assert "403 Forbidden" not in page.content.decode()


@pytest.mark.parametrize(
    ("language", "title"),
    [("pt-br", "Algo deu errado do nosso lado"), ("en", "Something went wrong on our side")],
)
def test_the_500_page_renders_without_any_page_context(language, title):
    with translation.override(language):
        html = render_to_string("500.html")
    assert title in html


def test_the_favicon_is_served_and_browsers_asking_for_favicon_ico_are_sent_to_it(client):
    page = client.get("/favicon.ico")
    assert page.status_code == 301
    assert page["Location"].endswith("favicon.svg")
