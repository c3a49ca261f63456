import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.factories import QueueFactory, TicketFactory, associate

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_log_in_see_my_queues_and_switch_language(live_server, page):
    suporte = QueueFactory(slug="suporte", name="Suporte (pt-BR)", languages=["pt"])
    TicketFactory.create_batch(2, queue=suporte)
    associate([suporte], username="ana")

    login(page, live_server, "ana")
    row = page.locator("table.queues tbody tr", has_text="Suporte (pt-BR)")
    assert row.locator("[data-testid=open-count]").inner_text() == "2"
    assert page.locator("h1").inner_text() == "Your queues"

    page.click("[data-user-menu] summary")  # the language is in the account menu
    page.select_option("#language-select", "pt-br")  # submits itself (static/js/acolhe.js)
    page.wait_for_function("document.documentElement.lang === 'pt-br'")
    assert page.locator("h1").inner_text() == "Suas filas"
    # The choice persists across pages.
    page.click("a.brand")
    assert page.locator("h1").inner_text() == "Suas filas"

    # On a phone each queue is a card with its counts named, none scrolled out of sight.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    unassigned = row.locator("td").nth(4)  # the last column, "Sem responsável"
    expect(unassigned).to_be_visible()
    box = unassigned.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
