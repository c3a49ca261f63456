"""The ticket page keeps which procedures apply per queue, tags and language (sop/selectors.py): a second
ticket of the same kind reads no procedure, and every way a procedure changes is on the next page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk import generations
from sop import selectors, services
from sop.models import SOPVersion
from tests.factories import SOPFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _titles(ticket, user) -> list[str]:
    return [entry.version.title for entry in selectors.ticket_page_sop_panel(ticket, user)["sops"]]


def _steps(ticket, user) -> list[str]:
    return [item.step.text for entry in selectors.ticket_page_sop_panel(ticket, user)["sops"] for item in entry.steps]


def test_a_second_ticket_of_the_same_queue_tags_and_language_reads_no_procedure(hacked_sop, pt_ticket, maria):
    assert _titles(pt_ticket, maria) == ["Conta invadida"]
    twin = TicketFactory(queue=pt_ticket.queue, language="pt", tags=["conta-invadida"])
    with CaptureQueriesContext(connection) as queries:
        panel = selectors.ticket_page_sop_panel(twin, maria)
    assert [entry.version.title for entry in panel["sops"]] == ["Conta invadida"]
    steps = [item.step.text for item in panel["sops"][0].steps]
    assert steps == ["Confirmar a identidade do titular", "Bloquear a conta"]
    # One query: the ticket's own ticks. No SOP, version, step or queue link is read.
    (ticks,) = queries.captured_queries
    assert 'FROM "sop_checklisttick"' in ticks["sql"] and "sop_sop_queues" not in ticks["sql"]
    # Another language or other tags are another entry.
    en = TicketFactory(queue=pt_ticket.queue, language="en", tags=["conta-invadida"])
    assert _titles(en, maria) == ["Hacked account"]
    untagged = TicketFactory(queue=pt_ticket.queue, language="pt", tags=[])
    assert _titles(untagged, maria) == []


def test_a_published_version_is_on_the_next_page(hacked_sop, pt_ticket, maria, lead):
    assert _titles(pt_ticket, maria) == ["Conta invadida"]
    draft = services.create_version(
        hacked_sop, language="pt", title="Conta invadida v2", body="b", steps=[("Novo passo", True)], actor=lead
    )
    assert _titles(pt_ticket, maria) == ["Conta invadida"]  # a draft is not shown
    services.update_draft(draft, title="Conta invadida (nova)", body="b", steps=[("Passo revisto", True)])
    services.publish_version(draft)
    assert _titles(pt_ticket, maria) == ["Conta invadida (nova)"]
    assert _steps(pt_ticket, maria) == ["Passo revisto"]


def test_an_sop_edited_deactivated_or_moved_is_on_the_next_page(hacked_sop, pt_ticket, maria, support):
    assert _titles(pt_ticket, maria) == ["Conta invadida"]
    hacked_sop.tags = ["outra-coisa"]
    hacked_sop.save()
    assert _titles(pt_ticket, maria) == []
    hacked_sop.tags = ["conta-invadida"]
    hacked_sop.save()
    assert _titles(pt_ticket, maria) == ["Conta invadida"]
    hacked_sop.queues.remove(pt_ticket.queue)  # a queue link is a change too
    assert _titles(pt_ticket, maria) == []
    hacked_sop.queues.add(pt_ticket.queue)
    assert _titles(pt_ticket, maria) == ["Conta invadida"]
    hacked_sop.is_active = False
    hacked_sop.save()
    assert _titles(pt_ticket, maria) == []


def test_a_new_sop_a_removed_version_and_an_edited_step_are_on_the_next_page(hacked_sop, pt_ticket, maria, lead):
    assert _titles(pt_ticket, maria) == ["Conta invadida"]
    other = SOPFactory(slug="a-first", title="A first", queues=[pt_ticket.queue])
    services.publish_version(
        services.create_version(other, language="pt", title="Antes de tudo", body="b", steps=["x"], actor=lead)
    )
    assert _titles(pt_ticket, maria) == ["Antes de tudo", "Conta invadida"]
    step = SOPVersion.objects.get(sop=hacked_sop, language="pt", is_current=True).steps.get(position=1)
    step.text = "Confirmar quem é o titular"
    step.save()
    assert _steps(pt_ticket, maria)[1] == "Confirmar quem é o titular"
    SOPVersion.objects.get(sop=other, language="pt").delete()
    assert _titles(pt_ticket, maria) == ["Conta invadida"]


def test_without_the_cache_the_panel_is_read_from_the_database(hacked_sop, pt_ticket, maria, monkeypatch):
    monkeypatch.setattr(generations, "current", lambda family: None)
    with CaptureQueriesContext(connection) as queries:
        assert _titles(pt_ticket, maria) == ["Conta invadida"]
    assert any("sop_sopversion" in query["sql"] for query in queries.captured_queries)
