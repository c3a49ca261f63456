"""The load data set of `make bench` records macro use the suggestions can learn from, and not trivially:
a share of its solved tickets answered by topic, with noise (`tests/bench/dataset.py`)."""

import pytest
from django.db import connection

from assist import selectors
from assist.evaluation import evaluate, labelled_tickets
from tests.bench import dataset
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def test_the_load_data_set_records_macro_use_by_topic_that_the_suggestions_learn(monkeypatch):
    queues, users = dataset.people_and_queues()
    dataset._seed_tickets_and_messages(2_000, queues, users)
    answered = dataset._seed_macro_use(queues, text=True)
    solved = Ticket.objects.filter(subject__startswith="bench ", status__in=["solved", "closed"])
    assert 0.3 < answered / solved.count() < 0.5
    labelled = labelled_tickets().filter(subject__startswith="bench ")
    assert labelled.count() == answered and not labelled.exclude(pk__in=solved.values("pk")).exists()
    # The first mail names the topic in its language among the usual words; most sit in the topic's queue.
    first = (
        Message.objects.filter(ticket__in=labelled, direction="in")
        .order_by("ticket_id", "created_at", "id")
        .distinct("ticket_id")
    )
    topic_words = {word for _, pt, en in dataset.TOPICS for word in f"{pt} {en}".split()}
    assert all(set(body.split()[:3]) <= topic_words for body in first.values_list("body_text", flat=True)[:200])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_message")
    monkeypatch.setattr(selectors, "_common", (None, []))
    result = evaluate(labelled)
    assert result.held_out > 50
    # Signal, not a giveaway: neither the queue's habits nor the neighbours are always right.
    assert result.macro_top3 > result.baseline_macro_top3 and result.queue_top1 > result.baseline_queue_top1
    assert result.macro_top1 < 0.9 and result.baseline_macro_top1 < 0.9
