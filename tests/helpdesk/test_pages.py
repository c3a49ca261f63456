"""Whole pages read their navigation in the view (helpdesk.pages); context processors read nothing."""

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.module_loading import import_string

from helpdesk.pages import navigation
from tests.factories import QueueFactory, TicketFactory, associate
from tickets.escalations import services as escalations
from tickets.models import Queue

pytestmark = pytest.mark.django_db


def test_no_context_processor_reads_the_database():
    request = RequestFactory().get("/")
    request.user = associate([QueueFactory()], username="bia")
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    with CaptureQueriesContext(connection) as queries:
        for path in processors:
            for value in import_string(path)(request).values():
                bool(value)  # evaluates a lazy value, as a template's {% if %} would
    assert len(queries) == 0


def test_every_page_shows_the_escalations_waiting_for_a_specialist(client, settings):
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0
    front = QueueFactory(slug="suporte")
    safety = QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL)
    specialist = associate([safety], username="tessa")
    escalations.escalate(TicketFactory(queue=front), target_queue=safety, reason="Ameaça")
    assert navigation(specialist)["sla"]["escalations"] == 1
    assert navigation(AnonymousUser()) == {}
    client.force_login(specialist)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("escalation_list")}"' in html
