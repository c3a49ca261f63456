import pytest
from django.urls import reverse

from sop import selectors, services
from tests.factories import QueueFactory, SOPFactory, TicketFactory, associate
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def step_url(ticket, step):
    return reverse("sop:ticket_step", args=[ticket.number, step.pk])


def test_panel_shows_the_sops_of_the_ticket_in_its_language(hacked_sop, pt_ticket, maria):
    SOPFactory(slug="payment", queues=[pt_ticket.queue], tags=["pagamento"])  # another tag: not shown
    panel = selectors.ticket_sop_panel(pt_ticket, maria)
    (entry,) = panel["sops"]
    assert entry.sop == hacked_sop
    assert entry.version.language == "pt" and entry.version.title == "Conta invadida"
    assert not entry.fell_back
    assert [item.step.text for item in entry.steps] == ["Confirmar a identidade do titular", "Bloquear a conta"]
    assert [step.text for step in panel["unticked_required"]] == ["Confirmar a identidade do titular"]


def test_panel_falls_back_to_the_other_language_when_the_sop_has_no_version_in_the_tickets(hacked_sop, support, lead):
    hacked_sop.versions.filter(language="en").update(is_current=False)
    ticket = TicketFactory(queue=support, language="en", tags=["hacked-account"])
    (entry,) = selectors.ticket_sop_panel(ticket, lead)["sops"]
    assert entry.version.language == "pt" and entry.fell_back


def test_panel_lists_the_sops_by_title_each_in_its_preferred_version(suporte, lead):
    ticket = TicketFactory(queue=suporte, language="en", tags=[])

    def sop(title, languages, publish=True):
        made = SOPFactory(title=title, slug=title.lower(), queues=[suporte])
        for language in languages:
            version = services.create_version(
                made, language=language, title=f"{title} {language}", body="b", steps=[("s", False)], actor=lead
            )
            if publish:
                services.publish_version(version)
        return made

    zeta, alpha, mid = sop("Zeta", ["pt", "en"]), sop("Alpha", ["pt"]), sop("Mid", ["en", "pt"])
    sop("Draft only", ["en"], publish=False)  # no current version: not shown
    panel = selectors.ticket_sop_panel(ticket, lead, visible=True)["sops"]
    assert [(e.sop, e.version.language, e.fell_back) for e in panel] == [
        (alpha, "pt", True),
        (mid, "en", False),
        (zeta, "en", False),
    ]
    assert [e.version.title for e in panel] == ["Alpha pt", "Mid en", "Zeta en"]


@pytest.mark.parametrize(
    ("sop_queues", "sop_tags", "applies"),
    [
        (["suporte"], [], True),  # every ticket of its queues
        (["suporte"], ["conta-invadida"], True),
        (["suporte"], ["pagamento"], False),
        (["legal"], ["conta-invadida"], False),  # another queue
        ([], ["conta-invadida"], True),  # any queue with the tag
        ([], [], False),  # names neither: applies nowhere
    ],
)
def test_which_sops_apply_by_queue_and_tags(suporte, pt_ticket, sop_queues, sop_tags, applies):
    queues = [suporte if slug == "suporte" else QueueFactory(slug=slug) for slug in sop_queues]
    sop = SOPFactory(queues=queues, tags=sop_tags)
    assert (sop in selectors.applicable_sops(pt_ticket)) is applies


def test_a_ticket_without_tags_gets_only_queue_wide_sops(suporte, hacked_sop):
    general = SOPFactory(slug="tone", queues=[suporte], tags=[])
    ticket = TicketFactory(queue=suporte, tags=[])
    assert list(selectors.applicable_sops(ticket)) == [general]


def test_ticking_a_step_is_recorded_on_the_ticket(client, hacked_sop, pt_ticket, maria):
    step = hacked_sop.versions.get(language="pt", is_current=True).steps.get(position=1)
    client.force_login(maria)
    response = client.post(step_url(pt_ticket, step), {"checked": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="sop-panel"' in html and 'data-unticked-required="0"' in html
    event = pt_ticket.events.get(kind=TicketEvent.Kind.SOP_STEP_CHECKED)
    assert event.actor == maria
    assert event.new_value["step"] == step.pk and event.new_value["sop"] == "hacked-account"
    assert event.new_value["required"] is True
    assert selectors.unticked_required_steps(pt_ticket) == []

    client.post(step_url(pt_ticket, step), {"checked": "1"}, HTTP_HX_REQUEST="true")  # again: no new event
    client.post(step_url(pt_ticket, step), {"checked": "0"}, HTTP_HX_REQUEST="true")
    kinds = list(pt_ticket.events.filter(kind__startswith="sop_").values_list("kind", flat=True))
    assert kinds == [TicketEvent.Kind.SOP_STEP_CHECKED, TicketEvent.Kind.SOP_STEP_UNCHECKED]
    assert [s.text for s in selectors.unticked_required_steps(pt_ticket)] == ["Confirmar a identidade do titular"]


def test_cannot_tick_on_a_ticket_one_cannot_see(client, hacked_sop, pt_ticket, support):
    step = hacked_sop.versions.get(language="pt", is_current=True).steps.first()
    client.force_login(associate([support], username="john"))
    assert client.post(step_url(pt_ticket, step), {"checked": "1"}).status_code == 404
    assert not pt_ticket.events.filter(kind=TicketEvent.Kind.SOP_STEP_CHECKED).exists()


def test_cannot_tick_a_step_of_an_sop_that_does_not_apply_or_is_outdated(client, hacked_sop, pt_ticket, maria):
    other = SOPFactory(slug="payment", queues=[pt_ticket.queue], tags=["pagamento"])
    foreign = services.publish_version(services.create_version(other, language="pt", title="P", body="", steps=["x"]))
    old_step = hacked_sop.versions.get(language="pt", is_current=True).steps.first()
    services.publish_version(services.create_version(hacked_sop, language="pt", title="T", body="", steps=["y"]))
    client.force_login(maria)
    assert client.post(step_url(pt_ticket, foreign.steps.get()), {"checked": "1"}).status_code == 404
    assert client.post(step_url(pt_ticket, old_step), {"checked": "1"}).status_code == 404


def test_ticket_page_shows_the_sop_panel_with_its_checklist(client, hacked_sop, pt_ticket, maria):
    step = hacked_sop.versions.get(language="pt", is_current=True).steps.get(position=2)
    services.set_step_checked(pt_ticket, step, checked=True, actor=maria)
    client.force_login(maria)
    html = client.get(reverse("ticket", args=[pt_ticket.number])).content.decode()
    assert 'id="sop-panel"' in html
    assert "Conta invadida" in html
    assert "Confirmar a identidade do titular" in html
    assert 'data-unticked-required="1"' in html
    assert step_url(pt_ticket, step) in html
