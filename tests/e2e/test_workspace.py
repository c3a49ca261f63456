"""The associate workspace in a real browser: next ticket, reply and solve, collision, shortcuts, pt-BR."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.factories import MessageFactory, QueueFactory, TicketFactory, associate

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(new_page, live_server, username):
    page = new_page(locale="pt-BR")
    login(page, live_server, username)
    return page


def test_next_ticket_reply_and_solve_with_collision_warning(new_page, live_server):
    queue = QueueFactory(slug="suporte", name="Suporte", addresses=["suporte@acolhe.example"])
    bia = associate([queue], username="bia", first_name="Bia", last_name="Souza")
    associate([queue], username="davi", first_name="Davi", last_name="Lima")
    ticket = TicketFactory(queue=queue, subject="Não consigo postar vídeos")
    MessageFactory(ticket=ticket, body_text="O upload trava em 99%")

    page = sign_in(new_page, live_server, "bia")
    page.keyboard.press("a")  # next ticket
    page.wait_for_url(f"{live_server.url}/tickets/{ticket.number}/")
    expect(page.locator("h1")).to_contain_text("Não consigo postar vídeos")
    expect(page.get_by_role("button", name="Enviar e resolver")).to_be_visible()  # pt-BR by default

    other = sign_in(new_page, live_server, "davi")
    other.goto(f"{live_server.url}/tickets/{ticket.number}/")
    page.keyboard.press("r")
    page.keyboard.type("Já liberamos o upload, pode tentar de novo.")
    expect(other.get_by_test_id("collision")).to_contain_text("Bia Souza", timeout=15000)

    page.get_by_role("button", name="Enviar e resolver").click()
    page.wait_for_url(f"{live_server.url}/tickets/{ticket.number}/")
    expect(page.locator(".message-out", has_text="Já liberamos o upload")).to_be_visible()
    expect(page.locator("#field-status")).to_have_value("solved")
    ticket.refresh_from_db()
    assert ticket.status == "solved" and ticket.assignee == bia

    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()


def test_list_keyboard_navigation_and_search(new_page, live_server):
    queue = QueueFactory(slug="suporte", name="Suporte")
    bia = associate([queue], username="bia", first_name="Bia", last_name="Souza")
    older = TicketFactory(queue=queue, assignee=bia, subject="Primeiro pedido")
    newer = TicketFactory(queue=queue, assignee=bia, subject="Segundo pedido")
    MessageFactory(ticket=older, body_text="Minha transmissão ao vivo caiu")

    page = sign_in(new_page, live_server, "bia")
    page.goto(f"{live_server.url}/work/mine/")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.locator("tr.selected")).to_contain_text(newer.subject)  # most recently updated first
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/tickets/{newer.number}/")
    page.keyboard.press("/")
    page.keyboard.type("transmissao")
    page.keyboard.press("Enter")
    expect(page.locator(".search-results")).to_contain_text(older.subject)
    expect(page.locator(".snippet mark")).to_have_text("transmissão")


def test_ctrl_enter_sends_and_the_s_key_asks_before_mailing_and_solving(new_page, live_server):
    queue = QueueFactory(slug="suporte", name="Suporte", addresses=["suporte@acolhe.example"])
    associate([queue], username="bia", first_name="Bia", last_name="Souza")
    ticket = TicketFactory(queue=queue, subject="Cobrança em dobro")
    MessageFactory(ticket=ticket, body_text="Fui cobrado duas vezes")
    page = sign_in(new_page, live_server, "bia")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")

    page.keyboard.press("r")
    page.keyboard.type("Estamos verificando a cobrança.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".message-out", has_text="Estamos verificando a cobrança.")).to_be_visible()

    page.keyboard.press("r")
    page.keyboard.type("Estornamos o valor.")
    page.locator("[data-composer]").blur()
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.keyboard.press("s")
    expect(page.locator("[data-composer]")).to_have_value("Estornamos o valor.")
    assert questions == ["Enviar esta resposta ao solicitante e resolver o chamado?"]
    ticket.refresh_from_db()
    assert ticket.status != "solved"
    assert not ticket.messages.filter(body_text__contains="Estornamos").exists()
