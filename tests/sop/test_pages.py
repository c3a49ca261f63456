import pytest
from django.urls import reverse

from sop import services
from sop.models import SOP, Acknowledgement, SOPVersion
from tests.factories import SOPFactory

pytestmark = pytest.mark.django_db


def test_library_searches_both_languages_with_stemming(client, hacked_sop, maria):
    SOPFactory(slug="payment", title="Payment", category="payments", tags=["pagamento"])
    services.publish_version(
        services.create_version(
            SOP.objects.get(slug="payment"), language="en", title="Payouts", body="Returned payouts"
        )
    )
    client.force_login(maria)
    # "bloqueando" finds "Bloqueie"/"bloquear" through the Portuguese stemmer; "locked" finds "Lock" in English.
    for query in ("bloqueando conta", "locked"):
        html = client.get(reverse("sop:library"), {"q": query}).content.decode()
        assert "Conta invadida" in html, query
        assert "Payouts" not in html
    html = client.get(reverse("sop:library"), {"category": "payments"}).content.decode()
    assert "Payouts" in html and "Conta invadida" not in html


def test_library_shows_each_sop_in_the_interface_language(client, hacked_sop, maria, settings):
    client.force_login(maria)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("sop:library")).content.decode()
    assert ">Hacked account</a>" in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"
    assert ">Conta invadida</a>" in client.get(reverse("sop:library")).content.decode()


def test_associates_do_not_see_drafts(client, hacked_sop, maria):
    draft = services.create_version(hacked_sop, language="pt", title="Rascunho secreto", body="")
    client.force_login(maria)
    assert client.get(reverse("sop:version", args=["hacked-account", draft.pk])).status_code == 404
    assert "Rascunho secreto" not in client.get(reverse("sop:history", args=["hacked-account"])).content.decode()
    assert client.get(reverse("sop:version_new", args=["hacked-account"])).status_code == 403


def test_lead_writes_a_new_must_read_version_and_publishes_it_from_the_form(client, hacked_sop, lead, maria):
    client.force_login(lead)
    form = client.get(reverse("sop:version_new", args=["hacked-account"]), {"lang": "pt"}).content.decode()
    assert "Bloqueie a conta" in form  # starts from the current text
    response = client.post(
        reverse("sop:version_new", args=["hacked-account"]) + "?lang=pt",
        {
            "title": "Conta invadida",
            "body": "Bloqueie a conta, encerre as sessões e envie o **link seguro**.",
            "steps": "! Confirmar a identidade do titular\n! Encerrar as sessões\nBloquear a conta",
            "change_summary": "Encerrar sessões",
            "must_read": "on",
            "action": "publish",
        },
    )
    version = SOPVersion.objects.get(sop=hacked_sop, language="pt", number=2)
    assert response.status_code == 302 and response["Location"].endswith(f"/versions/{version.pk}/")
    assert version.is_current and version.must_read and version.author == lead
    assert [s.required for s in version.steps.all()] == [True, True, False]
    assert Acknowledgement.objects.filter(version=version, user=maria, acknowledged_at__isnull=True).exists()


def test_draft_saved_then_published_from_its_page(client, hacked_sop, lead):
    client.force_login(lead)
    client.post(
        reverse("sop:version_new", args=["hacked-account"]) + "?lang=en",
        {"title": "Hacked account", "body": "v2", "steps": "", "action": "draft"},
    )
    draft = SOPVersion.objects.get(sop=hacked_sop, language="en", number=2)
    assert draft.is_draft and not draft.is_current
    client.post(reverse("sop:version_edit", args=["hacked-account", draft.pk]), {"title": "Hacked", "body": "v2b"})
    client.post(reverse("sop:version_publish", args=["hacked-account", draft.pk]))
    draft.refresh_from_db()
    assert draft.is_current and draft.title == "Hacked" and draft.body == "v2b"


def test_history_and_diff_pages(client, hacked_sop, maria):
    old = hacked_sop.versions.get(language="pt", is_current=True)
    new = services.publish_version(
        services.create_version(hacked_sop, language="pt", title="Conta invadida", body="Texto novo.")
    )
    client.force_login(maria)
    history = client.get(reverse("sop:history", args=["hacked-account"])).content.decode()
    assert "PT v2" in history and "PT v1" in history and "EN v1" in history
    html = client.get(reverse("sop:diff", args=["hacked-account"]), {"from": old.pk, "to": new.pk}).content.decode()
    assert 'class="diff-added">+ Texto novo.' in html
    assert 'class="diff-removed">- Bloqueie a conta e envie o **link seguro**.' in html
    assert client.get(reverse("sop:diff", args=["hacked-account"]), {"from": "x", "to": new.pk}).status_code == 404


def test_sop_page_offers_the_other_language(client, hacked_sop, maria):
    client.force_login(maria)
    html = client.get(reverse("sop:detail", args=["hacked-account"]), {"lang": "en"}).content.decode()
    assert "Lock the account" in html
    assert reverse("sop:version", args=["hacked-account", hacked_sop.versions.get(language="pt").pk]) in html


def test_lead_creates_an_sop_with_queues_and_tags(client, lead, suporte):
    client.force_login(lead)
    response = client.post(
        reverse("sop:sop_new"),
        {"title": "Reembolso", "slug": "refund", "category": "payments", "queues": [suporte.pk],
         "tags": "Reembolso, refund", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    sop = SOP.objects.get(slug="refund")
    assert sop.tags == ["reembolso", "refund"] and list(sop.queues.all()) == [suporte]


def test_a_procedure_goes_by_its_readers_language_on_the_macros_history_coverage_and_compare_pages(
    client, hacked_sop, lead, settings
):
    from sop.models import SOP
    from tests.factories import MacroFactory

    # The internal name is one for all languages; each version has a title in its own.
    SOP.objects.filter(pk=hacked_sop.pk).update(title="Contas comprometidas (nome interno)")
    MacroFactory(name="Link seguro / Secure link", sop=hacked_sop)
    client.force_login(lead)
    for language, title in (("pt-br", "Conta invadida"), ("en", "Hacked account")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        macros = client.get(reverse("sop:macros")).content.decode()
        assert f">{title}</a>" in macros and "nome interno" not in macros, language
        versions = hacked_sop.versions.order_by("pk")
        compare = {"from": versions.first().pk, "to": versions.last().pk}
        for page, query in (("sop:history", {}), ("sop:coverage", {}), ("sop:diff", compare)):
            html = client.get(reverse(page, args=["hacked-account"]), query).content.decode()
            heading = html[html.index("<h1>") : html.index("</h1>")]
            assert title in heading and "nome interno" not in heading, (language, page)


def test_the_macro_form_offers_each_procedure_by_its_readers_language_name(client, hacked_sop, lead, settings):
    SOP.objects.filter(pk=hacked_sop.pk).update(title="Contas comprometidas (nome interno)")
    client.force_login(lead)
    for language, title in (("pt-br", "Conta invadida"), ("en", "Hacked account")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        html = client.get(reverse("sop:macro_new")).content.decode()
        assert f'<option value="{hacked_sop.pk}">{title}</option>' in html, language
        assert "nome interno" not in html
