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


def test_the_sidebar_badges_arrive_after_the_list_and_keep_the_current_link(new_page, live_server):
    queue = QueueFactory(slug="suporte", name="Suporte")
    bia = associate([queue], username="bia", first_name="Bia", last_name="Souza")
    TicketFactory.create_batch(3, queue=queue)
    TicketFactory(queue=queue, assignee=bia, subject="Meu pedido")

    page = sign_in(new_page, live_server, "bia")
    page.goto(f"{live_server.url}/work/mine/")
    expect(page.get_by_test_id("count-mine")).to_have_text("1")
    expect(page.get_by_test_id("count-unassigned")).to_have_text("3")
    expect(page.get_by_test_id("queue-count-suporte")).to_have_text("4")
    expect(page.locator('.view-list a[aria-current="page"]')).to_contain_text("Meus chamados")
    expect(page.locator("tbody tr", has_text="Meu pedido")).to_be_visible()


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
    page.keyboard.press("s")
    dialog = page.get_by_test_id("send-solve-dialog")
    expect(dialog).to_contain_text("Enviar e resolver?")
    expect(dialog).to_contain_text("Estornamos o valor.")
    page.keyboard.press("Escape")  # the same as "Continuar escrevendo"
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-composer]")).to_have_value("Estornamos o valor.")
    expect(page.locator("[data-composer]")).to_be_focused()
    ticket.refresh_from_db()
    assert ticket.status != "solved"
    assert not ticket.messages.filter(body_text__contains="Estornamos").exists()


LONG_THREAD = [
    "O pagamento da venda não caiu na minha conta.",
    "Recebemos o comprovante, vamos conferir com o time de pagamentos.",
    "Ainda não apareceu. O valor era de R$ 182,40.",
    "O repasse ficou retido na revisão de segurança; já pedimos a liberação.",
    "Caiu agora! Os próximos também vão ficar retidos?",
    "Não devem: a revisão só acontece no primeiro saque acima de R$ 150.",
    "Mais uma dúvida: posso sacar para outra conta?",
    "Pode, desde que esteja no seu nome.",
]


@pytest.mark.parametrize(
    ("locale", "texts"),
    [
        (
            "pt-BR",
            {
                "jump": "Ir para a resposta",
                "title": "Enviar e resolver?",
                "send": "Enviar e resolver",
                "pick": "Escolher arquivos",
                "none": "Nenhum arquivo escolhido",
            },
        ),
        (
            "en-US",
            {
                "jump": "Jump to reply",
                "title": "Send and solve?",
                "send": "Send and solve",
                "pick": "Choose files",
                "none": "No file chosen",
            },
        ),
    ],
)
def test_on_a_phone_a_long_thread_keeps_the_reply_in_reach_and_s_confirms_before_sending_and_solving(
    new_page, live_server, locale, texts
):
    queue = QueueFactory(slug="suporte", name="Suporte", addresses=["suporte@acolhe.example"])
    associate([queue], username="bia", first_name="Bia", last_name="Souza")
    ticket = TicketFactory(queue=queue, subject="Pagamento da venda não caiu")
    for position, text in enumerate(LONG_THREAD * 2):
        MessageFactory(ticket=ticket, body_text=text, direction="in" if position % 2 == 0 else "out")
    page = new_page(locale=locale)
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "bia")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")

    # At the top of a long thread the reply box is out of sight: the corner button leads to it.
    jump = page.locator("[data-jump-to-reply]")
    expect(jump).to_be_visible()
    expect(jump).to_contain_text(texts["jump"])
    assert jump.bounding_box()["x"] + jump.bounding_box()["width"] <= 390
    jump.click()
    expect(page.locator("[data-composer]")).to_be_focused()
    expect(page.locator("[data-composer]")).to_be_in_viewport()
    expect(jump).to_be_hidden()

    # Back at the top, the `r` key jumps as well.
    page.locator("[data-composer]").blur()
    page.evaluate("window.scrollTo(0, 0)")
    expect(jump).to_be_visible()
    page.keyboard.press("r")
    expect(page.locator("[data-composer]")).to_be_in_viewport()
    page.keyboard.type("Pronto, o saque para outra conta está liberado.")
    page.locator("[data-composer]").blur()

    # The file picker speaks the reader's language (the browser's own button speaks the browser's), and names
    # the files chosen.
    pick = page.locator(".attachments-pick")
    expect(pick).to_have_text(texts["pick"])
    chosen = page.locator("[data-attachments-chosen]")
    expect(chosen).to_have_text(texts["none"])
    receipt = {"name": "comprovante.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
    page.locator("[data-attachments]").set_input_files([receipt])
    expect(chosen).to_have_text("comprovante.pdf")
    assert pick.bounding_box()["x"] + pick.bounding_box()["width"] <= 390

    page.keyboard.press("s")
    dialog = page.get_by_test_id("send-solve-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text(texts["title"])
    expect(dialog).to_contain_text(ticket.requester.email)
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_test_id("confirm-send-solve").click()

    page.wait_for_url(f"{live_server.url}/tickets/{ticket.number}/")
    expect(page.locator(".message-out", has_text="saque para outra conta")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.status == "solved"
    sent = ticket.messages.get(body_text__contains="saque para outra conta", direction="out")
    assert [attachment.filename for attachment in sent.attachments.all()] == ["comprovante.pdf"]
