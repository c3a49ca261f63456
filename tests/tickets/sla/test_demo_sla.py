"""The demo's SLA policies: a business-hours calendar in São Paulo with Brazil's national holidays."""

import struct
import zlib
from datetime import date

import pytest
from django.core.management import call_command

from tickets.demo.images import withdrawal_screen
from tickets.demo.sla import easter, national_holidays
from tickets.models import Queue, SlaPolicy, Ticket

pytestmark = pytest.mark.django_db


def test_easter_and_good_friday_fall_on_the_published_dates():
    # Easter Sunday as the Brazilian civil calendar lists it for these years.
    assert [easter(year) for year in (2024, 2025, 2026, 2027)] == [
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
    ]
    holidays = national_holidays(2026)
    assert date(2026, 4, 3) in holidays  # Sexta-feira Santa
    assert date(2026, 11, 20) in holidays  # Dia Nacional de Zumbi e da Consciência Negra
    assert len(holidays) == 10


def test_every_demo_queue_has_a_policy_and_demo_tickets_have_due_times():
    call_command("seed_demo", tickets=12)
    for queue in Queue.objects.all():
        policy = SlaPolicy.objects.get(queue=queue, priority=None)
        assert policy.time_zone == "America/Sao_Paulo"
        assert policy.business_hours["mon"] == [["08:00", "18:00"]] and "sun" not in policy.business_hours
        assert date(date.today().year, 9, 7) in policy.holidays
    waiting = Ticket.objects.filter(first_responded_at=None)
    assert waiting.exists()
    assert not waiting.filter(first_response_due_at=None).exists()


def test_the_demo_dashboard_shows_plausible_numbers():
    call_command("seed_demo", tickets=80)
    from metrics.models import DailyStats
    from tickets.models import TicketEvent

    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.REOPENED).exists()
    totals = DailyStats.objects.exclude(associate=None)
    solved = sum(totals.values_list("solved", flat=True))
    first_contact = sum(totals.values_list("first_contact_resolved", flat=True))
    handle_minutes = sum(totals.values_list("handle_seconds", flat=True)) / 60
    replies = sum(totals.values_list("replies_sent", flat=True))
    assert 0 < first_contact < solved  # FCR below 100%
    assert 4 <= handle_minutes / replies <= 30  # minutes per reply, not zero


def test_the_demo_shows_escalations_at_each_stage_and_every_sensitivity_category():
    call_command("seed_demo", tickets=40)
    from tickets.models import Escalation
    from tickets.wellbeing.detection import CATEGORIES

    stages = {
        (e.target_queue.slug, e.status, e.claimed_by is not None)
        for e in Escalation.objects.select_related("target_queue")
    }
    assert ("account-security", "open", False) in stages  # nobody took it yet
    assert ("engineering", "open", True) in stages  # a specialist took it
    assert ("legal", "handed_back", True) in stages
    assert ("trust-safety", "open", False) in stages  # child safety escalates itself
    flagged = {category for ticket in Ticket.objects.exclude(sensitivity=[]) for category in ticket.sensitivity}
    assert flagged == set(CATEGORIES)


def test_nothing_in_the_demo_happens_in_the_future():
    from django.utils import timezone

    from tickets.models import Message, TicketEvent

    call_command("seed_demo", tickets=60)
    now = timezone.now()
    assert not Message.objects.filter(created_at__gt=now).exists()
    assert not TicketEvent.objects.filter(created_at__gt=now).exists()


def test_the_demo_has_a_long_thread_with_attachments():
    from tickets.models import Attachment

    call_command("seed_demo", tickets=10)
    ticket = Ticket.objects.get(subject="Pagamento da venda de moedas não caiu")
    assert ticket.messages.count() >= 8
    assert ticket.status == Ticket.Status.SOLVED
    listed = Attachment.objects.filter(message__ticket=ticket, is_inline=False)
    assert set(listed.values_list("filename", flat=True)) == {"print-do-app.png", "comprovante.txt"}
    # One reply came in HTML with a picture inline (cid:), shown where the requester put it.
    picture = Attachment.objects.get(message__ticket=ticket, is_inline=True)
    assert picture.content_id and picture.filename == "tela-do-saque.png"
    assert f'<img src="/attachments/{picture.pk}/"' in picture.message.body_html
    png = picture.file.read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", png[16:24]) == (240, 256)  # the IHDR's width and height


def test_the_demo_picture_is_a_png_that_decodes_to_its_drawing():
    png = withdrawal_screen()
    chunks, position = {}, 8
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        body = png[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", png[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks[kind] = body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height, depth, colour) == (240, 256, 8, 2)
    pixels = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + width * 3

    def pixel(x, y):
        return tuple(pixels[y * stride + 1 + x * 3 : y * stride + 4 + x * 3])

    assert pixel(5, 5) == (11, 110, 79)  # the app's top bar
    assert pixel(100, 60) == (255, 255, 255)  # the card
    assert pixel(5, 250) == (244, 246, 248)  # the background


# The demo's tickets are dated back from the moment it is loaded and its clocks count São Paulo's business
# hours, so how many breach depends on the moment: the four left behind on a Monday morning, and up to 17
# of 120 on a weekday afternoon, when the last two days' unanswered mail and follow-ups have run out of
# business time. Leaving the whole month unanswered would breach some 30. The test pins both moments (it
# failed on weekday afternoons against a bound of 15 read at other hours).
@pytest.mark.parametrize(
    "moment",
    ["2026-12-07T08:30:00-03:00", "2026-12-09T15:00:00-03:00"],
    ids=["monday-morning", "wednesday-afternoon"],
)
def test_a_lead_opening_the_demo_sees_a_few_breaches_not_the_whole_month(moment):
    from datetime import datetime

    import time_machine
    from django.utils import timezone

    from metrics.definitions import Summary
    from metrics.models import DailyStats
    from metrics.selectors import SUMS
    from tickets.sla.health import breached_q

    with time_machine.travel(datetime.fromisoformat(moment), tick=False):
        call_command("seed_demo", tickets=120)
        breaching = Ticket.objects.exclude(status__in=["solved", "closed"]).filter(breached_q(timezone.now()))
        assert 4 <= breaching.count() <= 20
        totals = Summary(DailyStats.objects.exclude(associate=None).aggregate(**SUMS))
        assert 70 <= totals.sla_percent < 100
