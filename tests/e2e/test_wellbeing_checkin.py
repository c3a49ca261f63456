"""The gentle check-in and the lead's private notice, in a real browser and in pt-BR: a heavy ticket (self-harm
given by Next ticket, child safety opened by Trust & Safety) and a limit of the shift reached."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.factories import MessageFactory, ProfileFactory, QueueFactory, TeamFactory, TicketFactory, UserFactory
from tests.factories import associate as make_associate
from tickets.models import ExposureBudget, Notification, Queue, Role, TeamWellbeingPolicy
from tickets.wellbeing import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SUPPORT = "Programa de apoio ao atendente: 0800 000 1234"


def team_with_lead(queue, name="Suporte"):
    team = TeamFactory(name=name)
    lead = UserFactory(username="lia", first_name="Lia", last_name="Ramos", role=Role.TEAM_LEAD, queues=[queue])
    ProfileFactory(user=lead, team=team, ui_language="pt-br")
    team.leads.add(lead)
    TeamWellbeingPolicy.objects.create(team=team, support_resources=SUPPORT)
    return team, lead


def flagged(queue, categories, subject, body):
    ticket = TicketFactory(queue=queue, subject=subject, language="pt")
    MessageFactory(ticket=ticket, body_text=body)
    services.flag_ticket(ticket, categories)
    return ticket


def sign_in(new_page, live_server, username):
    page = new_page(locale="pt-BR")
    login(page, live_server, username)
    return page


def expect_private_notice(new_page, live_server, text, *, not_showing):
    """The lead's notice, in their language: a name and a suggestion, a link to the team page, no ticket."""
    page = sign_in(new_page, live_server, "lia")
    page.goto(f"{live_server.url}/notifications/")
    notice = page.get_by_test_id("notice").filter(has_text=text)
    expect(notice).to_have_count(1)
    expect(notice.get_by_role("link")).to_have_attribute("href", "/wellbeing/team/")
    for hidden in not_showing:
        expect(notice).not_to_contain_text(hidden)
    stored = Notification.objects.get(user__username="lia", kind=Notification.Kind.WELLBEING)
    assert stored.ticket is None


def test_a_self_harm_ticket_from_next_ticket_brings_the_check_in_and_the_lead_a_private_notice(new_page, live_server):
    queue = QueueFactory(slug="suporte", name="Suporte", languages=["pt"])
    team, _lead = team_with_lead(queue)
    bia = make_associate([queue], username="bia", first_name="Bia", last_name="Souza")
    ProfileFactory(user=bia, team=team)
    ticket = flagged(queue, ["self_harm"], "Minha amiga", "Ela escreveu uma carta de despedida e não atende.")

    page = sign_in(new_page, live_server, "bia")
    page.keyboard.press("a")  # Next ticket
    page.wait_for_url(f"{live_server.url}/tickets/{ticket.number}/")
    check_in = page.get_by_test_id("check-in")
    expect(check_in).to_have_attribute("data-reason", "ticket")
    expect(check_in).to_contain_text("Este é um chamado pesado.")
    expect(check_in).to_contain_text("Como você está? Tudo bem se afastar por alguns minutos.")
    expect(check_in).to_contain_text("Converse com sua liderança: Lia Ramos.")
    expect(check_in).to_contain_text(SUPPORT)
    expect(page.get_by_test_id("skip-self_harm")).to_have_text(
        "Sem mais “automutilação ou suicídio” pelo resto do meu turno"
    )

    page.get_by_test_id("check-in-pause").click()
    expect(page.locator("body")).to_contain_text("Recebimento pausado")
    assert ExposureBudget.objects.get(user=bia).intake_paused_at is not None

    expect_private_notice(
        new_page,
        live_server,
        "Bia Souza está atendendo um chamado de segurança infantil ou de autolesão.",
        not_showing=[ticket.subject, str(ticket.number)],
    )
    assert not Notification.objects.filter(user=bia).exists()


def test_reaching_the_limit_of_the_shift_brings_the_check_in_and_tells_the_lead_once(new_page, live_server, settings):
    settings.ACOLHE_EXPOSURE_BUDGET = 2
    queue = QueueFactory(slug="suporte", name="Suporte", languages=["pt"])
    team, _lead = team_with_lead(queue)
    bia = make_associate([queue], username="bia", first_name="Bia", last_name="Souza")
    ProfileFactory(user=bia, team=team)
    first = flagged(queue, ["violence"], "Ameaça no direct", "Disse que vai me esperar na saída.")
    second = flagged(queue, ["violence"], "Vídeo de briga", "Um vídeo de briga real está circulando.")

    page = sign_in(new_page, live_server, "bia")
    page.goto(f"{live_server.url}/tickets/{first.number}/")
    expect(page.get_by_test_id("content-warning")).to_contain_text("violência")
    expect(page.get_by_test_id("check-in")).to_have_count(0)  # violence alone, under the limit: no check-in

    page.goto(f"{live_server.url}/tickets/{second.number}/")
    check_in = page.get_by_test_id("check-in")
    expect(check_in).to_have_attribute("data-reason", "limit")
    expect(check_in).to_contain_text("Você atingiu seu limite de conteúdo sensível neste turno.")
    expect(check_in).to_contain_text("Converse com sua liderança: Lia Ramos.")
    expect(check_in).to_contain_text(SUPPORT)
    page.get_by_test_id("skip-violence").click()
    expect(page.locator("body")).to_contain_text("o Próximo chamado não vai te passar essa categoria")
    assert ExposureBudget.objects.get(user=bia).skipped_categories == ["violence"]

    page.goto(f"{live_server.url}/tickets/{first.number}/")  # seen again: the lead is not told twice
    expect_private_notice(
        new_page,
        live_server,
        "Bia Souza atingiu um limite de conteúdo sensível neste turno.",
        not_showing=[first.subject, second.subject],
    )


def test_trust_and_safety_opening_a_child_safety_ticket_sees_the_check_in_and_their_lead_is_told(new_page, live_server):
    suporte = QueueFactory(slug="suporte", name="Suporte", languages=["pt"])
    trust_and_safety = QueueFactory(slug="trust-safety", name="Trust & Safety", kind=Queue.Kind.CROSS_FUNCTIONAL)
    team, _lead = team_with_lead(trust_and_safety, name="Trust & Safety")
    tessa = UserFactory(
        username="tessa", first_name="Tessa", last_name="Lima", role=Role.SPECIALIST, queues=[suporte, trust_and_safety]
    )
    ProfileFactory(user=tessa, team=team)
    ticket = flagged(suporte, ["child_safety"], "Perfil suspeito", "Um adulto pede fotos para minha filha de 11 anos.")

    page = sign_in(new_page, live_server, "tessa")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    expect(page.get_by_test_id("content-warning")).to_contain_text("segurança infantil")
    check_in = page.get_by_test_id("check-in")
    expect(check_in).to_have_attribute("data-reason", "ticket")
    expect(check_in).to_contain_text("Este é um chamado pesado.")
    expect(check_in).to_contain_text("Converse com sua liderança: Lia Ramos.")

    expect_private_notice(
        new_page,
        live_server,
        "Tessa Lima está atendendo um chamado de segurança infantil ou de autolesão.",
        not_showing=[ticket.subject, str(ticket.number)],
    )


def test_on_a_phone_the_lead_reads_the_whole_title_of_the_team_table(new_page, live_server):
    # The title of the by-category table was its <caption>, as wide as the table, which scrolls sideways on a
    # phone: the Portuguese title was cut off at the screen's edge.
    team_with_lead(QueueFactory(slug="suporte", name="Suporte", languages=["pt"]))
    page = sign_in(new_page, live_server, "lia")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/wellbeing/team/")
    title = "Por categoria: chamados sensíveis neste turno e a precisão do detector em 30 dias"
    expect(page.get_by_role("table", name=title)).to_be_visible()
    box = page.get_by_role("heading", name=title).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
