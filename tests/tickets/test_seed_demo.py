import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tickets.demo.showcase import ESCALATIONS, FLAGGED
from tickets.models import InboundEmail, Message, Queue, Ticket

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Queue.objects.count(),
        get_user_model().objects.count(),
        Ticket.objects.count(),
        Message.objects.count(),
    )


def test_seed_demo_is_bilingual_and_idempotent():
    call_command("seed_demo", tickets=24)
    first = _counts()
    call_command("seed_demo", tickets=24)
    assert _counts() == first
    # and the long thread (seed_demo._long_thread) and the showcase's escalated and flagged tickets
    assert first[2] == 24 + 1 + len(ESCALATIONS) + len(FLAGGED)
    assert set(Ticket.objects.values_list("language", flat=True)) == {"pt", "en"}
    assert {"trust-safety", "engineering", "legal", "account-security"} <= set(
        Queue.objects.values_list("slug", flat=True)
    )
    # Every demo ticket came in through the mail pipeline.
    assert InboundEmail.objects.filter(esp="demo", status="processed").count() >= 24
    assert Message.objects.filter(direction="out", author__isnull=False).exists()
