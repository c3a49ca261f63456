import pytest
from django.db import IntegrityError, connection, transaction

from tests.factories import QueueFactory, RequesterFactory, TicketFactory, UserFactory
from tickets import services
from tickets.models import Requester, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_ticket_numbers_come_from_their_own_sequence_and_grow():
    first, second = TicketFactory(), TicketFactory()
    assert first.number >= 1000
    assert second.number == first.number + 1
    assert first.tag == f"[#{first.number}]"


def test_requester_address_is_unique_whatever_its_case():
    Requester.objects.create(email="maria@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Requester.objects.create(email="Maria@Example.com")


def test_upsert_requester_matches_any_case_and_fills_missing_name():
    existing = Requester.objects.create(email="joao@example.com")
    found, created = services.upsert_requester("JOAO@example.com", "João Silva", "pt")
    assert found.pk == existing.pk
    assert not created
    found.refresh_from_db()
    assert (found.name, found.language) == ("João Silva", "pt")


def test_update_ticket_writes_one_event_per_real_change():
    lead = UserFactory(username="lead")
    ticket = TicketFactory(tags=["b"])
    other_queue = QueueFactory(slug="legal", name="Legal")
    events = services.update_ticket(
        ticket, actor=lead, status=Ticket.Status.SOLVED, priority=Ticket.Priority.NORMAL, queue=other_queue,
        tags=["Conta Invadida", "b"], assignee=lead,
    )  # fmt: skip
    kinds = {e.kind for e in events}
    # Priority did not change, so it wrote nothing.
    assert kinds == {"status_changed", "queue_changed", "tags_changed", "assigned"}
    ticket.refresh_from_db()
    assert ticket.solved_at is not None
    assert ticket.tags == ["b", "conta-invadida"]
    status_event = TicketEvent.objects.get(ticket=ticket, kind="status_changed")
    assert (status_event.old_value, status_event.new_value, status_event.actor) == ("new", "solved", lead)
    assert TicketEvent.objects.get(ticket=ticket, kind="queue_changed").new_value["name"] == "Legal"


def test_reopening_clears_solved_time():
    ticket = TicketFactory()
    services.update_ticket(ticket, actor=None, status=Ticket.Status.SOLVED)
    services.update_ticket(ticket, actor=None, status=Ticket.Status.OPEN)
    ticket.refresh_from_db()
    assert ticket.solved_at is None


def test_update_ticket_refuses_fields_that_are_not_editable():
    with pytest.raises(ValueError, match="not editable"):
        services.update_ticket(TicketFactory(), actor=None, number=1)


def test_event_log_is_append_only_in_python_and_in_the_database():
    ticket = TicketFactory()
    event = services.record_event(ticket, TicketEvent.Kind.NOTE_ADDED)
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ticketevent SET kind = 'merged' WHERE id = %s", [event.pk])


def test_open_ticket_records_creation_and_links_follow_up():
    old = TicketFactory(status=Ticket.Status.CLOSED)
    new = services.open_ticket(
        requester=RequesterFactory(), queue=old.queue, subject="De novo", language="pt", follow_up_of=old
    )
    assert new.follow_up_of == old
    assert TicketEvent.objects.filter(ticket=new, kind="created").count() == 1
    assert TicketEvent.objects.get(ticket=old, kind="follow_up_opened").new_value == {"ticket": new.number}
