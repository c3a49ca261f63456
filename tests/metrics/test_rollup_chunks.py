from datetime import date, timedelta

import pytest

from metrics.models import DailyStats
from metrics.services import rollup
from tests.factories import QueueFactory, RequesterFactory, UserFactory
from tests.metrics.conftest import sp
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db
Kind = TicketEvent.Kind


def test_rollup_counts_each_ticket_once_when_it_reads_tickets_one_at_a_time(monkeypatch):
    queue = QueueFactory(slug="suporte")
    ana = UserFactory(username="ana")
    at = sp(2025, 3, 10, 9, 0)
    for _ in range(2):
        ticket = Ticket.objects.create(queue=queue, requester=RequesterFactory(), subject="x", created_at=at)
        TicketEvent.objects.bulk_create(
            [
                TicketEvent(ticket=ticket, kind=Kind.CREATED, new_value={"queue": "suporte"}, created_at=at),
                TicketEvent(ticket=ticket, kind=Kind.REPLY_SENT, actor=ana, created_at=at + timedelta(minutes=5)),
                TicketEvent(
                    ticket=ticket,
                    kind=Kind.STATUS_CHANGED,
                    actor=ana,
                    old_value="open",
                    new_value="solved",
                    created_at=at + timedelta(minutes=9),
                ),
            ]
        )
    # The smallest chunk: every ticket's events must still be read and counted once.
    monkeypatch.setattr(rollup, "TICKET_CHUNK", 1)

    result = rollup.rollup_days(date(2025, 3, 10), date(2025, 3, 10))

    assert result.tickets == 2
    queue_row = DailyStats.objects.get(associate=None, queue=queue)
    ana_row = DailyStats.objects.get(associate=ana, queue=queue)
    assert queue_row.tickets_created == 2
    assert (ana_row.replies_sent, ana_row.solved) == (2, 2)
