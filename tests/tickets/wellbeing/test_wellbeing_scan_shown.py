"""The scanner reads everything the ticket page can show an associate: a self-harm statement only in the
quoted history, only in the HTML part, only in the quoted HTML, or only in a text attachment is flagged."""

import re
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.conf import settings

from tests.bench.sensitivity import long_mails, parsed_message
from tests.factories import QueueFactory
from tests.tickets.email.test_inbound import deliver
from tickets.models import Message, Ticket
from tickets.wellbeing.detection import get_classifier
from tickets.wellbeing.services import (
    PIECE_CHARS_READ_ALONE,
    PIECES_READ_ALONE,
    SHOWN_HTML_FIELDS,
    SHOWN_TEXT_FIELDS,
    classify_message,
    read_alone,
    shown_text,
)

pytestmark = pytest.mark.django_db

STATEMENT = "Não aguento mais, eu quero me matar."
HARMLESS = "Obrigada pela resposta, vou tentar de novo amanhã e aviso se der certo."


@pytest.fixture(autouse=True)
def suporte():
    return QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)


def mail(text: str, html: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "Lia Campos <lia@example.com>", "suporte@acolhe.example"
    message["Subject"], message["Message-ID"] = "Re: Conta bloqueada", make_msgid(domain="example.com")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def flagged(message: EmailMessage) -> Message:
    inbound = deliver(message.as_bytes())
    assert inbound.status == "processed", inbound.reason
    stored = Message.objects.get(inbound_email=inbound)
    ticket = Ticket.objects.get(pk=inbound.ticket_id)
    assert "self_harm" in ticket.sensitivity
    assert stored.sensitivity
    return stored


def test_statement_only_in_the_quoted_history_is_flagged():
    text = f"{HARMLESS}\n\nEm seg., 23 de nov. de 2026 às 10:00, Lia <lia@example.com> escreveu:\n> {STATEMENT}\n"
    stored = flagged(mail(text))
    assert STATEMENT in stored.quoted_text + stored.body_text


# A long, friendly reply about everyday things (login, a double charge, renaming a channel): read with it as one
# text, the quoted statement below it scores far under the threshold (0.30 against 0.745 with v13; docs/wellbeing.md).
FRIENDLY_REPLY = (
    "Oi, tudo bem? Obrigada pela resposta rápida. Consegui entrar na conta de novo depois de trocar a senha, e o "
    "código de verificação chegou no e-mail certinho desta vez. Só fiquei com uma dúvida sobre o pagamento da "
    "assinatura: a cobrança de novembro apareceu duas vezes no cartão, vocês conseguem ver isso? Mandei o print do "
    "extrato em anexo. Também queria saber se dá para mudar o nome do canal sem perder os inscritos, porque vi que "
    "tem um limite de trocas por mês. No mais, está tudo funcionando, os vídeos voltaram a subir normalmente. "
    "Obrigada de novo pela paciência, vocês foram muito atenciosos.\nAbraços, Lia"
)


def test_statement_in_the_quoted_history_below_a_long_friendly_reply_is_flagged():
    text = f"{FRIENDLY_REPLY}\n\nEm seg., 23 de nov. de 2026 às 10:00, Lia <lia@example.com> escreveu:\n> {STATEMENT}\n"
    stored = flagged(mail(text))
    assert stored.sensitivity["phrases"]["self_harm"] == ["quero me matar"]


def test_each_part_is_read_alone_as_well_as_with_the_rest():
    """The quoted history read alone flags what the whole, read at once, does not; the verdict keeps the highest
    confidence and names the phrases once."""
    message = Message(body_text=FRIENDLY_REPLY, quoted_text=f"> {STATEMENT}")
    classifier = get_classifier()
    assert "self_harm" not in classifier.classify(shown_text(message)).categories
    verdict = classify_message(message)
    alone = classifier.classify(f"> {STATEMENT}")
    assert verdict.categories == ["self_harm"]
    assert verdict.findings[0].confidence == alone.findings[0].confidence
    assert verdict.findings[0].phrases == ("quero me matar",)


def test_statement_in_a_paragraph_of_its_own_below_a_support_question_is_flagged():
    """No quote at all: the user asks about their account, then says it, in the same text."""
    stored = flagged(mail(f"{FRIENDLY_REPLY}\n\n{STATEMENT}\n"))
    assert stored.quoted_text == ""
    assert stored.sensitivity["phrases"]["self_harm"] == ["quero me matar"]


CLIENTS = Path(__file__).resolve().parents[2] / "fixtures" / "mail" / "clients"


def test_reading_the_pieces_alone_adds_no_flag_to_ordinary_mail_of_every_client():
    """The client-shaped corpus (interleaved answers, signatures, quoted questions) holds no harm: the
    pieces read alone flag nothing the whole does not. Read alone without the term lists' say, the model took
    the short interleaved answers of two of them ("Não troquei, é o mesmo aparelho de sempre.") for
    self-harm."""
    added = {}
    for path in sorted(CLIENTS.glob("*.eml")):
        message, attachments = parsed_message(path.read_bytes())
        whole = set(get_classifier().classify(shown_text(message, attachments)).categories)
        extra = set(classify_message(message, attachments).categories) - whole
        if extra:
            added[path.name] = sorted(extra)
    assert added == {}


def test_a_sensitive_paragraph_in_a_long_mail_is_found_and_ordinary_long_mail_rarely_flagged():
    """The long-mail set (tests/fixtures/sensitivity/README.md): read as a whole only, 59 of the 80 sensitive
    mails had a label of theirs found (23 of 30 self-harm, 10 of 14 child safety) and 5 of the 80 ordinary
    ones were flagged (v12); reading each paragraph alone as well finds 77 (all self-harm and child-safety ones)
    and flags 8 with v12, 6 with v13 and 7 with v14 (which finds 78)."""
    found, flagged, missed = 0, 0, {"self_harm": 0, "child_safety": 0}
    for case, raw in long_mails():
        categories = set(classify_message(*parsed_message(raw)).categories)
        if case.expected:
            found += bool(case.expected & categories)
            for category in missed.keys() & case.expected - categories:
                missed[category] += 1
        else:
            flagged += bool(categories)
    assert found >= 74
    assert missed == {"self_harm": 0, "child_safety": 0}
    assert flagged <= 10


def test_the_pieces_read_alone_are_the_paragraphs_or_the_parts_each_once():
    assert read_alone(["one paragraph only"]) == []
    # A part of several paragraphs is read as its paragraphs; one of a single paragraph as itself, when there
    # are several parts. The same words again (an HTML part's rendering, a quote's markers) are read once.
    assert read_alone(["first\n\nsecond\n>\nthird", "fourth part", "> second"]) == [
        "first",
        "second",
        "third",
        "fourth part",
    ]


def test_a_short_statement_in_a_paragraph_of_its_own_is_flagged_and_a_signature_is_not_read():
    for statement in ("quero morrer.", "vou me matar", "I want to die."):
        message = Message(body_text=f"{FRIENDLY_REPLY}\n\n{statement}")
        assert "self_harm" not in get_classifier().classify(message.body_text).categories, statement
        assert classify_message(message).categories == ["self_harm"], statement


def test_a_one_line_statement_is_read_without_the_headers_beside_it():
    # The sender's name and address and a reply's subject weigh on a one-line message read whole: v14 gives this
    # one 0.656 for self-harm below them (threshold 0.767). The only part is read alone when headers stand
    # beside it, and a phrase of the term lists is what lets it be read.
    assert read_alone(["one paragraph only"]) == []
    assert read_alone(["one paragraph only"], beside_headers=True) == ["one paragraph only"]
    message = Message(
        from_name="Paula Reis", from_address="paula@example.com", subject="Re: Conta bloqueada", body_text=STATEMENT
    )
    assert classify_message(message).categories == ["self_harm"]
    ordinary = Message(
        from_name="Paula Reis", from_address="paula@example.com", subject="Re: Conta", body_text=HARMLESS
    )
    assert classify_message(ordinary).categories == []


def test_a_mail_of_many_paragraphs_is_read_alone_a_bounded_number_of_times():
    many = "\n\n".join(f"linha {n}" for n in range(10_000))
    assert len(read_alone([many])) == PIECES_READ_ALONE
    long_first = "x" * (PIECE_CHARS_READ_ALONE - 5)
    # A piece too long for what is left is passed over; the short ones after it are still read.
    assert read_alone([f"{long_first}\n\nabcdef\n\nabc"]) == [long_first, "abc"]


def test_statement_only_in_the_html_part_is_flagged():
    flagged(mail(HARMLESS, f"<html><body><p>{HARMLESS}</p><p>{STATEMENT}</p></body></html>"))


def test_statement_only_in_the_quoted_html_is_flagged():
    text = f"{HARMLESS}\n\nEm seg., 23 de nov. de 2026 às 10:00, Lia <lia@example.com> escreveu:\n> Tudo certo.\n"
    html = (
        f'<div dir="ltr">{HARMLESS}</div><div class="gmail_quote"><div class="gmail_attr">Em seg., 23 de nov. '
        f"de 2026 às 10:00, Lia escreveu:</div><blockquote>{STATEMENT}</blockquote></div>"
    )
    flagged(mail(text, html))


@pytest.mark.parametrize(
    "filename, maintype, subtype, content",
    [
        ("desabafo.txt", "text", "plain", STATEMENT.encode("utf-8")),
        # Sent as octet-stream by a client that does not know the type, in Windows-1252.
        ("desabafo.txt", "application", "octet-stream", STATEMENT.encode("windows-1252")),
        ("notas.csv", "text", "csv", f"data;texto\n2026-11-23;{STATEMENT}\n".encode()),
        ("carta.html", "text", "html", f"<html><body><p>{STATEMENT}</p></body></html>".encode()),
    ],
)
def test_statement_only_in_a_text_attachment_is_flagged(filename, maintype, subtype, content):
    message = mail(HARMLESS)
    message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    flagged(message)


def test_a_harmless_mail_with_html_quotes_and_attachments_is_not_flagged():
    message = mail(HARMLESS, f"<p>{HARMLESS}</p><blockquote>Tudo certo com a conta.</blockquote>")
    message.add_attachment(b"nada de mais aqui", maintype="text", subtype="plain", filename="nota.txt")
    inbound = deliver(message.as_bytes())
    assert Ticket.objects.get(pk=inbound.ticket_id).sensitivity == []


# What the thread template may show of a message without it being content someone wrote: ids, times,
# states and system text.
NOT_CONTENT = {"pk", "direction", "get_direction_display", "created_at", "delivery_status", "author", "attachment_list",
               "get_delivery_status_display", "delivery_error", "inbound_email_id", "written_at"}  # fmt: skip
ATTACHMENT_NOT_CONTENT = {"pk", "is_inline", "omitted_reason", "omitted_text", "is_image", "size"}


def test_every_field_the_ticket_page_shows_of_a_message_is_scanned():
    template = (Path(settings.BASE_DIR) / "templates" / "tickets" / "_message.html").read_text()
    shown = set(re.findall(r"\bmessage\.(\w+)", template)) - NOT_CONTENT
    assert shown, "the thread template no longer shows messages as `message.<field>`: update this test"
    assert shown <= set(SHOWN_TEXT_FIELDS) | set(SHOWN_HTML_FIELDS)
    # Attachments: their names, and the text of text attachments (the download link), are scanned.
    assert set(re.findall(r"\battachment\.(\w+)", template)) - ATTACHMENT_NOT_CONTENT == {"filename"}


def test_the_html_rendering_is_read_once_when_it_says_what_the_text_says_and_read_when_it_says_more():
    same = Message(body_text=f"Oi,\n{HARMLESS}", body_html=f"<p>Oi,</p><p>{HARMLESS}</p>")
    assert shown_text(same).count("vou tentar de novo") == 1
    more = Message(body_text=f"Oi,\n{HARMLESS}", body_html=f"<p>Oi,</p><p>{HARMLESS}</p><p>{STATEMENT}</p>")
    assert STATEMENT in shown_text(more)
