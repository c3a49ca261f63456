"""The API documents itself in the reader's language: the schema (and the docs pages that read it) and the
browsable API show translated descriptions, help texts and labels."""

import pytest
from rest_framework.test import APIClient

from tests.factories import QueueFactory, associate

pytestmark = pytest.mark.django_db


def descriptions(node, path=()):
    """Every (place, text) of a `description` in a schema, found by walking it."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                yield path, value
            else:
                yield from descriptions(value, (*path, key))
    elif isinstance(node, list):
        for position, value in enumerate(node):
            yield from descriptions(value, (*path, position))


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(associate([QueueFactory(slug="suporte")], username="ana"))
    return client


def test_the_schema_in_portuguese_has_no_description_left_in_english(api):
    english_schema = api.get("/api/schema/", {"format": "json", "lang": "en"}).json()
    portuguese_schema = api.get("/api/schema/", {"format": "json", "lang": "pt-br"}).json()
    english, portuguese = dict(descriptions(english_schema)), dict(descriptions(portuguese_schema))
    search = ("paths", "/api/v1/tickets/search/", "get")
    assert portuguese[search].startswith("Busca no texto dos assuntos")
    assert english[search].startswith("Full-text search over subjects")
    escalate = portuguese_schema["components"]["schemas"]["Escalate"]["properties"]
    assert escalate["ticket"]["description"] == "O número do chamado."
    assert escalate["target_queue"]["title"] == "Escalar para"
    # Enum components are named after their (translated) choices, so texts are compared, not places. The
    # last two are drf-spectacular's own words, which it does not translate.
    untranslated = sorted(
        set(english.values())
        & set(portuguese.values()) - {"", "No response body", 'Token-based authentication with required prefix "Token"'}
    )
    assert untranslated == []


def test_the_browsable_api_describes_an_action_and_a_list_in_portuguese(api):
    page = api.get("/api/v1/tickets/search/", {"q": "x"}, HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="pt-br")
    html = page.content.decode()
    assert "Busca no texto dos assuntos, das mensagens" in html
    assert "Full-text search" not in html
    listing = api.get("/api/v1/escalations/", HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="pt-br")
    assert "Escalonamentos dos chamados que você pode ver" in listing.content.decode()
