"""An associate in pt-BR uses the assist panel end to end against a stub OpenAI-compatible provider on
loopback: the similar solved ticket, then summary, draft (into the composer, not sent), translation and the
second opinion."""

import pytest
from playwright.sync_api import expect

from tests.assist.helpers import solved
from tests.assist.stub import StubProvider
from tests.e2e.conftest import login
from tests.factories import MacroFactory, MessageFactory, QueueFactory, RequesterFactory, TicketFactory, associate
from tickets.models import AssistOutput, Message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stub_provider(settings):
    with StubProvider() as stub:
        settings.ACOLHE_ASSIST_URL = stub.url
        settings.ACOLHE_ASSIST_MODEL = "stub-model"
        settings.ACOLHE_ASSIST_TIMEOUT_SECONDS = 5
        settings.ACOLHE_PAGE_CACHE_SECONDS = 0
        yield stub


def test_an_associate_summarises_drafts_translates_and_asks_a_second_opinion(live_server, new_page, stub_provider):
    queue = QueueFactory(slug="suporte", name="Suporte", languages=["pt"], assist_enabled=True)
    macro = MacroFactory(name="Recuperar conta invadida", body_pt="Oi! Enviamos um link seguro de recuperação.")
    neighbour = solved(
        queue, "Minha conta foi invadida", "Trocaram a senha da minha conta e postam vídeos.",
        "Bloqueamos o perfil e enviamos um link seguro.", macro=macro,
    )  # fmt: skip
    requester = RequesterFactory(email="joana@exemplo.com.br", name="Joana Silva")
    ticket = TicketFactory(queue=queue, requester=requester, subject="Invadiram minha conta", language="pt")
    # The scanner flagged it weakly (one phrase): the panel offers a second opinion.
    MessageFactory(
        ticket=ticket,
        body_text="Trocaram a senha da minha conta, que idiota. Meu e-mail é joana@exemplo.com.br.",
        sensitivity={"categories": ["bullying"], "confidence": {"bullying": 0.55}},
    )
    associate([queue], username="maria", first_name="Maria")

    page = new_page(locale="pt-BR")
    login(page, live_server, "maria")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    panel = page.locator("[data-testid=assist-panel]")
    expect(panel.locator("[data-testid=assist-neighbour]")).to_contain_text(f"#{neighbour.number}")
    expect(panel.locator("[data-testid=assist-macro]")).to_have_text("Recuperar conta invadida")

    panel.get_by_role("button", name="Resumir a conversa").click()
    expect(panel.locator("[data-testid=assist-summary]")).to_contain_text("Resumo do assistente")

    panel.get_by_role("button", name="Rascunhar uma resposta").click()
    draft = panel.locator("[data-assist-draft]")
    expect(draft).to_have_value("Rascunho do assistente. Contato: joana@exemplo.com.br")
    panel.get_by_role("button", name="Colocar na minha resposta").click()
    expect(page.locator("textarea[data-composer]")).to_have_value(
        "Rascunho do assistente. Contato: joana@exemplo.com.br"
    )

    panel.get_by_role("button", name="Traduzir a última mensagem").click()
    expect(panel.locator("[data-testid=assist-translation]")).to_contain_text("Tradução do assistente")

    panel.get_by_role("button", name="Segunda opinião sobre sensibilidade").click()
    expect(panel.locator("[data-testid=assist-second_opinion]")).to_contain_text("Possivelmente sensível")

    assert len(stub_provider.requests) == 4
    assert all("joana@exemplo.com.br" not in raw for raw in stub_provider.raw)
    # Nothing went to the requester: the draft waits in the composer. Each answer is kept for the export.
    assert not ticket.messages.filter(direction=Message.Direction.OUT).exists()
    assert sorted(AssistOutput.objects.filter(ticket=ticket).values_list("kind", flat=True)) == [
        "draft", "second_opinion", "summary", "translation",
    ]  # fmt: skip
