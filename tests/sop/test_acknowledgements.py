import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk.pages import navigation
from sop import selectors, services
from sop.models import Acknowledgement
from tests.factories import QueueFactory, SOPFactory, associate

pytestmark = pytest.mark.django_db


@pytest.fixture
def must_read(hacked_sop, lead):
    draft = services.create_version(
        hacked_sop,
        language="pt",
        title="Conta invadida",
        body="Agora pedimos também o último login conhecido.",
        change_summary="Novo passo de verificação",
        must_read=True,
        actor=lead,
    )
    return draft


def test_publishing_a_must_read_version_asks_the_associates_of_its_queues_in_its_language(
    must_read, maria, suporte, support
):
    associate([support], username="john")
    associate([suporte, support], username="carla")
    elsewhere = associate([QueueFactory(slug="legal", languages=["pt"])], username="laura")
    associate([suporte], username="gone", is_active=False)
    services.publish_version(must_read)
    asked = set(Acknowledgement.objects.filter(version=must_read).values_list("user__username", flat=True))
    assert {"maria", "carla", "lead.ana"} == asked
    assert "john" not in asked and elsewhere.username not in asked


def test_a_version_that_is_not_must_read_asks_nobody(hacked_sop, maria):
    services.publish_version(services.create_version(hacked_sop, language="pt", title="T", body="b"))
    assert not Acknowledgement.objects.exists()


def test_banner_shows_pending_acknowledgement_until_the_associate_confirms(client, must_read, maria):
    services.publish_version(must_read)
    client.force_login(maria)
    html = client.get(reverse("sop:library")).content.decode()
    assert "data-ack-banner" in html
    assert reverse("sop:version", args=["hacked-account", must_read.pk]) in html

    page = client.get(reverse("sop:version", args=["hacked-account", must_read.pk])).content.decode()
    assert "data-acknowledge" in page
    response = client.post(reverse("sop:acknowledge", args=[must_read.pk]))
    assert response.status_code == 302
    assert Acknowledgement.objects.get(user=maria).acknowledged_at is not None
    assert "data-ack-banner" not in client.get(reverse("sop:library")).content.decode()


def test_banner_goes_away_when_a_newer_version_supersedes_the_unread_one(client, must_read, maria):
    services.publish_version(must_read)
    services.publish_version(services.create_version(must_read.sop, language="pt", title="T", body="x"))
    assert selectors.pending_acknowledgements(maria) == []


def test_banner_costs_one_query_for_a_signed_in_user_and_none_for_anonymous(must_read, maria, settings):
    from django.contrib.auth.models import AnonymousUser

    settings.ACOLHE_PAGE_CACHE_SECONDS = 0  # measured afresh, not from the short per-user cache
    services.publish_version(must_read)
    with CaptureQueriesContext(connection) as queries:
        assert navigation(AnonymousUser()) == {}
    assert len(queries) == 0

    with CaptureQueriesContext(connection) as queries:
        pending = selectors.acknowledgements_to_show(maria)
        assert [ack.version.sop.slug for ack in pending] == ["hacked-account"]
        assert pending[0].version.title == "Conta invadida"
    assert len(queries) == 1
    # What every page's navigation carries for the banner.
    assert navigation(maria)["pending_acknowledgements"] == pending


def test_the_banner_names_the_procedure_in_the_readers_language_where_it_has_a_counterpart(
    client, hacked_sop, must_read, maria, lead
):
    english = services.create_version(
        hacked_sop, language="en", title="Hacked account", body="We also ask for the last known login.", actor=lead
    )
    must_read.counterpart = english
    must_read.save(update_fields=["counterpart"])
    services.publish_version(must_read)
    client.force_login(maria)
    client.cookies["django_language"] = "en"
    english_page = client.get(reverse("home")).content.decode()
    assert "Hacked account" in english_page and "Conta invadida" not in english_page
    client.cookies["django_language"] = "pt-br"
    portuguese_page = client.get(reverse("home")).content.decode()
    assert "Conta invadida" in portuguese_page


def test_coverage_lists_who_has_and_has_not_read_the_current_version(must_read, maria, suporte, lead):
    carla = associate([suporte], username="carla")
    services.publish_version(must_read)
    services.acknowledge(must_read, actor=carla)
    (row,) = selectors.coverage(must_read.sop, lead)
    assert {ack.user.username for ack in row.acknowledged} == {"carla"}
    assert {ack.user.username for ack in row.pending} == {"maria", "lead.ana"}
    assert row.percent == 33


def test_associates_cannot_see_coverage(client, must_read, maria):
    services.publish_version(must_read)
    client.force_login(maria)
    assert client.get(reverse("sop:coverage", args=["hacked-account"])).status_code == 403
    assert selectors.coverage(must_read.sop, maria) == []


def test_lead_reminds_those_who_have_not_read_it_by_mail(
    client, must_read, maria, lead, mailoutbox, django_capture_on_commit_callbacks
):
    services.publish_version(must_read)
    services.acknowledge(must_read, actor=lead)
    client.force_login(lead)
    page = client.get(reverse("sop:coverage", args=["hacked-account"])).content.decode()
    assert "Maria" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sop:remind", args=["hacked-account", must_read.pk]))
    assert response.status_code == 302
    assert [mail.to for mail in mailoutbox] == [[maria.email]]
    assert reverse("sop:version", args=["hacked-account", must_read.pk]) in mailoutbox[0].body
    ack = Acknowledgement.objects.get(user=maria)
    assert ack.reminded_at is not None and ack.reminder_count == 1


def test_acknowledging_twice_keeps_the_first_time(must_read, maria):
    services.publish_version(must_read)
    first = services.acknowledge(must_read, actor=maria).acknowledged_at
    assert services.acknowledge(must_read, actor=maria).acknowledged_at == first


def test_tags_only_sop_asks_every_queue_in_its_language(maria, support):
    john = associate([support], username="john")
    sop = SOPFactory(tags=["bug"])
    version = services.publish_version(
        services.create_version(sop, language="en", title="Bug", body="b", must_read=True)
    )
    assert set(version.acknowledgements.values_list("user", flat=True)) == {john.pk}


def test_the_banner_is_read_once_and_kept_until_an_acknowledgement_or_a_version_changes(
    must_read, maria, lead, settings
):
    """Kept per person in the acknowledgements' generation, not in the short page cache (off here): each change
    shows on the next page. Publishing asks for acknowledgements in bulk, with no signal of their own."""
    settings.ACOLHE_PAGE_CACHE_SECONDS = 0

    def banner() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as queries:
            titles = [ack.title_shown for ack in selectors.acknowledgements_to_show(maria)]
        return titles, len(queries)

    assert banner() == ([], 1)
    assert banner() == ([], 0)
    services.publish_version(must_read)
    assert banner() == (["Conta invadida"], 1)
    assert banner() == (["Conta invadida"], 0)
    services.acknowledge(must_read, actor=maria)
    assert banner() == ([], 1)
    newer = services.create_version(
        must_read.sop, language="pt", title="Conta invadida (v3)", body="b", must_read=True, actor=lead
    )
    assert banner() == ([], 1)  # a draft asks nobody, but any saved version starts a new generation
    services.publish_version(newer)
    assert banner() == (["Conta invadida (v3)"], 1)
    Acknowledgement.objects.filter(user=maria, version=newer).delete()
    assert banner() == ([], 1)
