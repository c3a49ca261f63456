import pytest
import yaml
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import QueueFactory, TicketFactory, associate

pytestmark = pytest.mark.django_db


def test_api_root_needs_authentication():
    assert APIClient().get("/api/v1/").status_code in {401, 403}


def test_api_root_lists_the_endpoints_with_a_token():
    user = associate(username="ana")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    body = client.get("/api/v1/").json()
    assert {"queues", "tickets", "messages"} <= set(body)


def test_ticket_list_shows_only_tickets_of_my_queues():
    mine, theirs = QueueFactory(slug="suporte"), QueueFactory(slug="legal")
    visible = TicketFactory(queue=mine)
    TicketFactory(queue=theirs)
    client = APIClient()
    client.force_authenticate(associate([mine], username="ana"))
    numbers = [t["number"] for t in client.get("/api/v1/tickets/").json()["results"]]
    assert numbers == [visible.number]


def test_openapi_schema_describes_the_api(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["info"]["title"] == "Acolhe API"
    assert "/api/v1/tickets/" in schema["paths"]


def test_api_docs_page_is_served_without_a_cdn(client):
    html = client.get("/api/docs/").content.decode()
    assert "swagger" in html.lower()
    assert "cdn." not in html
