"""Plain-text mail goes out as written: a name or a title with quotes, ampersands or angle brackets is
never HTML-escaped (O'Brien once went out as `O&#x27;Brien`)."""

import pytest
from django.core import mail

from metrics.services.csat import on_ticket_solved
from sop import services as sop_services
from tests.factories import QueueFactory, SOPFactory, TicketFactory, UserFactory
from tests.tickets.email.test_inbound import deliver, make_mail
from tickets.models import Role

pytestmark = pytest.mark.django_db

EN_BODY = "Hello, I cannot log into my account since yesterday. I tried resetting my password but no code arrives."
ESCAPES = ("&#x27;", "&#39;", "&amp;", "&lt;", "&gt;", "&quot;")


@pytest.fixture
def support():
    return QueueFactory(
        slug="support", languages=["en"], addresses=["support@acolhe.example"], is_default=True, auto_acknowledge=True
    )


def test_the_acknowledgement_keeps_an_apostrophe_in_the_requesters_name(support, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(make_mail(EN_BODY, sender="D'Arcy O'Brien <darcy@example.ie>", to="support@acolhe.example"))
    (sent,) = mail.outbox
    assert sent.body.startswith("Hi D'Arcy,")
    assert not any(escape in sent.body for escape in ESCAPES)
    assert not sent.alternatives  # plain text only: no HTML part to escape


def test_the_satisfaction_mail_keeps_the_requesters_name_as_written(support, django_capture_on_commit_callbacks):
    ticket = TicketFactory(queue=support, language="en", requester__name="D'Angelo Rossi & family")
    with django_capture_on_commit_callbacks(execute=True):
        on_ticket_solved(ticket)
    (sent,) = mail.outbox
    assert sent.body.startswith("Hi D'Angelo,")
    assert not any(escape in sent.body for escape in ESCAPES)


def test_the_procedure_reminder_keeps_quotes_and_ampersands_in_its_title(support):
    lead = UserFactory(username="lead", first_name="Ana", role=Role.TEAM_LEAD)
    reader = UserFactory(username="reader", first_name="Mary-Kate O'Hara", email="mk@acolhe.example")
    support.members.add(lead, reader)
    sop = SOPFactory(slug="refunds", title="Refunds", queues=[support])
    version = sop_services.create_version(
        sop, language="en", title='Refunds & "chargebacks" <over 100>', body="Check the payment first.",
        change_summary="Banks' new rules", must_read=True, actor=lead,
    )  # fmt: skip
    sop_services.publish_version(version)
    ack = version.acknowledgements.get(user=reader)
    assert sop_services.send_reminder_mails([ack.pk]) == 1
    (sent,) = mail.outbox
    assert 'Refunds & "chargebacks" <over 100>' in sent.subject
    # In the reader's interface language (pt-BR by default).
    assert 'O procedimento "Refunds & "chargebacks" <over 100>"' in sent.body
    assert "Mary-Kate O'Hara," in sent.body
    assert "Banks' new rules" in sent.body
    assert not any(escape in sent.subject + sent.body for escape in ESCAPES)
