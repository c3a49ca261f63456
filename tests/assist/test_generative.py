import email
import email.policy
import re
from email.utils import getaddresses
from pathlib import Path

import pytest
from django.urls import reverse

from assist import services
from sop.services import create_version, publish_version
from tests.assist.helpers import solved
from tests.factories import (
    MacroFactory,
    MessageFactory,
    QueueFactory,
    RequesterFactory,
    SOPFactory,
    TicketFactory,
    associate,
)
from tickets.models import AssistOutput, AuditLog, Message, Role, Ticket
from tickets.selectors import assist_outputs_visible_to

pytestmark = pytest.mark.django_db

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@pytest.fixture
def desk():
    queue = QueueFactory(slug="suporte", name="Suporte", assist_enabled=True)
    sop = SOPFactory(slug="conta-invadida", queues=[queue])
    publish_version(
        create_version(
            sop, language="pt", title="Conta invadida", body="Bloqueie o perfil antes de qualquer outra coisa.",
            steps=[("Confirmar o e-mail de recuperação", True)],
        )
    )  # fmt: skip
    macro = MacroFactory(name="Recuperar conta invadida", body_pt="Oi! Enviamos um link seguro de recuperação.")
    solved(
        queue, "Minha conta foi invadida", "Trocaram a senha da minha conta e postam vídeos.", "Link enviado.",
        macro=macro,
    )  # fmt: skip
    requester = RequesterFactory(email="joana.silva+conta@exemplo.com.br", name="Joana Silva")
    ticket = TicketFactory(queue=queue, requester=requester, subject="Invadiram minha conta")
    MessageFactory(
        ticket=ticket,
        body_text=(
            "Trocaram a senha da minha conta e postam vídeos. Meu e-mail é Joana.Silva+conta@exemplo.com.br, "
            "meu celular (11) 98765-4321 e meu CPF 123.456.789-09."
        ),
    )
    user = associate([queue], username="carla")
    return {"queue": queue, "ticket": ticket, "user": user, "macro": macro}


def ask(client, user, ticket, action, **data):
    client.force_login(user)
    response = client.post(reverse("assist_ask", args=[ticket.number, action]), data)
    assert response.status_code == 200
    return response.content.decode()


def test_the_draft_prompt_carries_the_ticket_sop_and_the_best_macro(client, desk, stub_provider):
    ask(client, desk["user"], desk["ticket"], "draft")
    (request,) = stub_provider.requests
    prompt = request["messages"][-1]["content"]
    assert "Bloqueie o perfil antes de qualquer outra coisa." in prompt
    assert "Confirmar o e-mail de recuperação" in prompt
    assert "Recuperar conta invadida" in prompt and "Enviamos um link seguro de recuperação." in prompt
    assert "Brazilian Portuguese" in request["messages"][0]["content"]
    assert request["model"] == "stub-model"


def test_personal_data_is_masked_in_the_prompt_and_restored_in_the_draft(client, desk, stub_provider):
    page = ask(client, desk["user"], desk["ticket"], "draft")
    raw = stub_provider.raw[0]
    for value in ("exemplo.com.br", "98765-4321", "123.456.789-09"):
        assert value not in raw
    assert "[EMAIL_1]" in raw and "[PHONE_1]" in raw and "[CPF_1]" in raw
    assert "Joana.Silva+conta@exemplo.com.br" in page
    assert "(11) 98765-4321" in page and "123.456.789-09" in page
    assert "[EMAIL_1]" not in page


def test_the_key_is_sent_as_a_bearer_token_and_never_audited(client, desk, stub_provider):
    ask(client, desk["user"], desk["ticket"], "summary")
    entry = AuditLog.objects.get(action=AuditLog.Action.ASSIST_REQUESTED)
    assert "stub-key" not in str(entry.detail)


def test_every_call_is_audited_with_who_which_ticket_provider_and_characters(client, desk, stub_provider):
    ask(client, desk["user"], desk["ticket"], "summary")
    entry = AuditLog.objects.get(action=AuditLog.Action.ASSIST_REQUESTED)
    assert entry.actor == desk["user"]
    assert entry.target == f"ticket:{desk['ticket'].number}"
    assert entry.detail["kind"] == "summary"
    assert entry.detail["provider"].endswith("stub-model")
    assert entry.detail["characters_sent"] == sum(len(m["content"]) for m in stub_provider.requests[0]["messages"])
    assert entry.detail["characters_received"] > 0


def test_summary_translation_and_second_opinion_answer_on_the_page(client, desk, stub_provider):
    assert "Resumo do assistente" in ask(client, desk["user"], desk["ticket"], "summary")
    assert "Tradução do assistente" in ask(client, desk["user"], desk["ticket"], "translation")
    opinion = ask(client, desk["user"], desk["ticket"], "second-opinion")
    assert "Insulto direto ao usuário." in opinion
    assert len(stub_provider.requests) == 3


@pytest.mark.parametrize("marking", [{"sensitivity": ["child_safety"]}, {"legal_hold": True}])
def test_a_restricted_ticket_is_refused_and_nothing_is_sent(client, desk, stub_provider, marking):
    specialist = associate([desk["queue"]], role=Role.SPECIALIST)
    restricted = TicketFactory(queue=desk["queue"], subject="Conteúdo restrito", **marking)
    MessageFactory(ticket=restricted, body_text="texto-restrito-123")
    for action in ("summary", "draft", "translation", "second-opinion"):
        page = ask(client, specialist, restricted, action)
        assert "nunca é enviado ao assistente" in page
    assert stub_provider.requests == []


def test_a_ticket_holding_merged_content_under_legal_hold_is_refused(client, desk, stub_provider):
    held = TicketFactory(queue=desk["queue"], legal_hold=True, merged_into=desk["ticket"])
    assert held.merged_into == desk["ticket"]
    page = ask(client, desk["user"], desk["ticket"], "summary")
    assert "nunca é enviado ao assistente" in page
    assert stub_provider.requests == []


def test_a_queue_that_has_not_opted_in_sends_nothing(client, desk, stub_provider):
    desk["queue"].assist_enabled = False
    desk["queue"].save()
    page = ask(client, desk["user"], desk["ticket"], "draft")
    assert "não está ativado nesta fila" in page
    assert stub_provider.requests == []


def test_a_timeout_leaves_the_page_working_with_a_clear_message(client, desk, stub_provider):
    stub_provider.delay = 2.5
    page = ask(client, desk["user"], desk["ticket"], "summary")
    assert "não respondeu a tempo" in page
    assert AuditLog.objects.get(action=AuditLog.Action.ASSIST_REQUESTED).detail["outcome"] == "timeout"
    assert client.get(reverse("ticket", args=[desk["ticket"].number])).status_code == 200


def test_an_answer_trickling_in_past_the_timeout_is_given_up(client, desk, stub_provider):
    # Each few bytes come well within the socket timeout (1 s), the whole answer in several seconds.
    stub_provider.trickle = 0.2
    page = ask(client, desk["user"], desk["ticket"], "draft")
    assert "não respondeu a tempo" in page
    assert AuditLog.objects.get(action=AuditLog.Action.ASSIST_REQUESTED).detail["outcome"] == "timeout"
    assert not AssistOutput.objects.exists()


def test_a_provider_error_answers_with_a_message_not_an_error_page(client, desk, stub_provider):
    stub_provider.status = 500
    page = ask(client, desk["user"], desk["ticket"], "draft")
    assert "não conseguiu responder agora" in page


def test_an_unreachable_provider_answers_with_a_message(client, desk, settings):
    settings.ACOLHE_ASSIST_URL = "http://127.0.0.1:9/v1/chat/completions"
    settings.ACOLHE_ASSIST_MODEL = "stub-model"
    page = ask(client, desk["user"], desk["ticket"], "translation")
    assert "não conseguiu responder agora" in page


def test_without_a_provider_the_panel_shows_no_generative_help(client, desk):
    client.force_login(desk["user"])
    page = client.get(reverse("assist_panel", args=[desk["ticket"].number])).content.decode()
    assert "Rascunhar uma resposta" not in page
    assert "Nenhum assistente" in ask(client, desk["user"], desk["ticket"], "draft")


def test_with_a_provider_the_panel_offers_summary_draft_and_translation(client, desk, stub_provider):
    client.force_login(desk["user"])
    page = client.get(reverse("assist_panel", args=[desk["ticket"].number])).content.decode()
    for action in ("summary", "draft", "translation"):
        assert reverse("assist_ask", args=[desk["ticket"].number, action]) in page
    assert reverse("assist_ask", args=[desk["ticket"].number, "second-opinion"]) not in page


@pytest.mark.parametrize(("confidence", "offered"), [(0.55, True), (0.97, False)])
def test_a_second_opinion_is_offered_when_the_scanner_is_unsure(client, desk, stub_provider, confidence, offered):
    MessageFactory(
        ticket=desk["ticket"], body_text="você é um lixo",
        sensitivity={"categories": ["bullying"], "confidence": {"bullying": confidence}},
    )  # fmt: skip
    client.force_login(desk["user"])
    page = client.get(reverse("assist_panel", args=[desk["ticket"].number])).content.decode()
    assert (reverse("assist_ask", args=[desk["ticket"].number, "second-opinion"]) in page) is offered


def test_someone_who_cannot_open_the_ticket_gets_not_found(client, desk, stub_provider):
    client.force_login(associate([QueueFactory(slug="outra")]))
    assert client.post(reverse("assist_ask", args=[desk["ticket"].number, "draft"])).status_code == 404
    assert stub_provider.requests == []


def test_no_request_ever_carries_restricted_text_or_an_unmasked_email(client, desk, stub_provider):
    """Every action on every ticket, by someone who may open them all: the restricted ones (child safety,
    legal hold, content merged in from a held ticket) never reach the provider, and no address does."""
    queue = desk["queue"]
    lead = associate([queue], role=Role.SPECIALIST)
    marker = "segredo-restrito"
    TicketFactory(queue=queue, sensitivity=["child_safety"], subject=f"{marker} 1")
    MessageFactory(ticket=TicketFactory(queue=queue, legal_hold=True), body_text=f"{marker} 2 a@b.co")
    receiver = TicketFactory(queue=queue, subject="recebeu um merge")
    TicketFactory(queue=queue, legal_hold=True, merged_into=receiver)
    MessageFactory(ticket=receiver, body_text=f"{marker} 3")
    # Addresses in the shapes real mail carries them: display names, tags, subdomains, upper case, quoted
    # history, a note, the subject.
    hostile = TicketFactory(queue=queue, subject="Re: conta de MARIA.Souza@Mail.Example.ORG")
    MessageFactory(ticket=hostile, body_text='De: "Maria" <maria_souza-99@sub.mail.example.org>\n> x@y.io escreveu')
    MessageFactory(ticket=hostile, direction=Message.Direction.NOTE, body_text="ligar para 21 3333-4444, z@w.com")
    MessageFactory(ticket=hostile, direction=Message.Direction.OUT, body_text="Olá <ana@exemplo.com.br>!")
    for ticket in queue.tickets.all():
        for action in ("summary", "draft", "translation", "second-opinion"):
            ask(client, lead, ticket, action)
    assert len(stub_provider.raw) == 4 * 3  # the fixture's ticket, the solved one and the hostile one
    for raw in stub_provider.raw:
        assert marker not in raw
        assert not EMAIL.findall(raw.replace("\\u00", ""))


def test_a_model_answer_is_shown_as_text_never_as_markup(client, desk, stub_provider):
    stub_provider.answer = lambda body: '<script>alert("x")</script><img src=x onerror=alert(1)>'
    for action in ("summary", "draft"):
        page = ask(client, desk["user"], desk["ticket"], action)
        assert "<script>" not in page and "<img" not in page
        assert "&lt;script&gt;" in page


def test_a_message_flagged_as_child_safety_is_left_out_even_if_the_ticket_is_not_flagged(client, desk, stub_provider):
    MessageFactory(
        ticket=desk["ticket"], body_text="mensagem-sinalizada-456",
        sensitivity={"categories": ["child_safety"], "confidence": {"child_safety": 0.9}},
    )  # fmt: skip
    for action in ("summary", "draft", "translation", "second-opinion"):
        ask(client, desk["user"], desk["ticket"], action)
    assert len(stub_provider.raw) == 4
    assert not any("mensagem-sinalizada-456" in raw for raw in stub_provider.raw)


def test_each_answer_is_kept_with_who_which_ticket_when_and_which_provider(client, desk, stub_provider):
    for action in ("summary", "draft", "translation", "second-opinion"):
        ask(client, desk["user"], desk["ticket"], action)
    kept = {output.kind: output for output in AssistOutput.objects.all()}
    assert set(kept) == {"summary", "draft", "translation", "second_opinion"}
    host = stub_provider.url.split("/")[2]
    for output in kept.values():
        assert (output.ticket, output.actor, output.provider, output.model) == (
            desk["ticket"], desk["user"], host, "stub-model",
        )  # fmt: skip
        assert output.created_at is not None
    # As the associate saw it: personal data put back, the second opinion in words.
    assert "Joana.Silva+conta@exemplo.com.br" in kept["draft"].text and kept["draft"].language == "pt"
    opinion = kept["second_opinion"].text
    assert "Insulto direto ao usuário." in opinion and not opinion.startswith("{")


def test_a_refused_or_failed_call_keeps_nothing(client, desk, stub_provider):
    stub_provider.status = 500
    ask(client, desk["user"], desk["ticket"], "draft")
    stub_provider.status = 200
    restricted = TicketFactory(queue=desk["queue"], sensitivity=["child_safety"])
    ask(client, associate([desk["queue"]], role=Role.SPECIALIST), restricted, "draft")
    assert not AssistOutput.objects.exists()


def test_kept_answers_are_read_by_the_tickets_visibility_rule(client, desk, stub_provider):
    ask(client, desk["user"], desk["ticket"], "draft")
    specialist = associate([desk["queue"]], role=Role.SPECIALIST)
    assert assist_outputs_visible_to(desk["user"]).count() == 1
    assert not assist_outputs_visible_to(associate([QueueFactory(slug="outra")])).exists()
    # Content found later to be child safety takes the answers already written with it.
    Ticket.objects.filter(pk=desk["ticket"].pk).update(sensitivity=["child_safety"])
    assert not assist_outputs_visible_to(desk["user"]).exists()
    assert assist_outputs_visible_to(specialist).count() == 1


def test_admins_read_kept_answers_in_the_admin_without_changing_them(client, desk, stub_provider):
    ask(client, desk["user"], desk["ticket"], "draft")
    output = AssistOutput.objects.get()
    admin = associate([], role=Role.ADMIN, username="root")
    admin.is_staff = True
    admin.save()
    client.force_login(admin)
    page = client.get(reverse("admin:tickets_assistoutput_change", args=[output.pk])).content.decode()
    assert "Joana.Silva+conta@exemplo.com.br" in page
    deleting = client.post(reverse("admin:tickets_assistoutput_delete", args=[output.pk]), {"post": "yes"})
    assert deleting.status_code == 403
    assert AssistOutput.objects.filter(pk=output.pk).exists()
    client.force_login(desk["user"])  # an associate is not staff: the admin sends them to its login
    assert client.get(reverse("admin:tickets_assistoutput_changelist")).status_code == 302


CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
ADDRESS_HEADERS = ("From", "To", "Cc", "Reply-To", "Sender", "Return-Path")
LOOSE_ADDRESS = re.compile(r"[^\s<>\"(),;:\[\]]+@[^\s<>\"(),;:]+")


def _forwarded(path: Path) -> tuple[str, str, set[str]]:
    """A mail of the corpus as an associate's forward of it: its address headers over its text, and every
    address in it, read by the standard library's header parser and a loose scan of the text (not the
    masker's pattern)."""
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
    headers = [f"{name}: {value}" for name in ADDRESS_HEADERS for value in mail.get_all(name) or ()]
    parts = [part for part in mail.walk() if part.get_content_type() == "text/plain"]
    payload = parts[0].get_payload(decode=True) if parts else b""
    text = payload.decode(parts[0].get_content_charset() or "utf-8", "replace") if payload else ""
    body = "---------- Forwarded message ----------\n" + "\n".join(headers) + "\n\n" + text[:2_500]
    addresses = {address for _, address in getaddresses(headers) if "@" in address}
    addresses |= {token.rstrip(".") for token in LOOSE_ADDRESS.findall(body)}
    return str(mail["Subject"] or path.stem)[:200], body, addresses


def test_no_address_of_real_shaped_mail_reaches_the_provider(client, desk, stub_provider):
    """Input not written for this test: CPython's email test messages (PSF licence) and the client-shaped
    corpus (tests/fixtures/mail/*/README.md), each forwarded into a ticket with its address headers. No
    address they hold (as Python's header parser or a loose text scan reads it) is in any prompt."""
    paths = sorted((CORPUS / "cpython").glob("*.eml")) + sorted((CORPUS / "clients").glob("*.eml"))
    assert len(paths) > 100
    planted = {}
    for path in paths:
        subject, body, addresses = _forwarded(path)
        ticket = TicketFactory(queue=desk["queue"], subject=subject)
        MessageFactory(ticket=ticket, body_text=body)
        planted[ticket.number] = addresses
    assert sum(len(addresses) for addresses in planted.values()) > 200
    for number in planted:
        ticket = services.check_ticket(desk["user"], number)
        assert services.ask_summary(desk["user"], ticket).text
    assert len(stub_provider.requests) == len(planted)
    for request, (number, addresses) in zip(stub_provider.requests, planted.items(), strict=True):
        prompt = " ".join(message["content"] for message in request["messages"]).lower()
        leaked = [address for address in addresses if address.lower() in prompt]
        assert not leaked, f"ticket #{number}: {leaked}"
