import pytest
from rest_framework.test import APIClient

from sop import services
from sop.models import Macro, SOPVersion
from tests.factories import MacroFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_everyone_reads_sops_and_published_versions(api, hacked_sop, maria):
    services.create_version(hacked_sop, language="pt", title="Rascunho", body="")
    api.force_authenticate(maria)
    sops = api.get("/api/v1/sops/").json()
    assert [s["slug"] for s in sops] == ["hacked-account"]
    assert set(sops[0]["current_versions"]) == {"pt", "en"}
    versions = api.get("/api/v1/sop-versions/", {"sop__slug": "hacked-account"}).json()["results"]
    assert {v["title"] for v in versions} == {"Conta invadida", "Hacked account"}


def test_associates_cannot_write_sops(api, hacked_sop, maria):
    api.force_authenticate(maria)
    assert api.post("/api/v1/sops/", {"slug": "x", "title": "X"}).status_code == 403
    response = api.post("/api/v1/sop-versions/", {"sop": "hacked-account", "language": "pt", "title": "T"})
    assert response.status_code == 403


def test_lead_creates_publishes_and_compares_versions(api, hacked_sop, lead, maria):
    api.force_authenticate(lead)
    created = api.post(
        "/api/v1/sop-versions/",
        {
            "sop": "hacked-account", "language": "pt", "title": "Conta invadida", "body": "Novo texto.",
            "steps": [{"text": "Encerrar sessões", "required": True}], "must_read": True,
            "change_summary": "Sessões",
        },
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["number"] == 2 and created.json()["status"] == "draft"
    assert api.patch(f"/api/v1/sop-versions/{pk}/", {"body": "Novo texto, revisado."}).status_code == 200
    published = api.post(f"/api/v1/sop-versions/{pk}/publish/").json()
    assert published["is_current"] is True
    assert api.post(f"/api/v1/sop-versions/{pk}/publish/").status_code == 400
    assert api.patch(f"/api/v1/sop-versions/{pk}/", {"body": "x"}).status_code == 400
    old = SOPVersion.objects.get(sop=hacked_sop, language="pt", number=1)
    diff = api.get(f"/api/v1/sop-versions/{pk}/diff/", {"other": old.pk}).json()
    assert {"kind": "added", "text": "Novo texto, revisado."} in diff

    api.force_authenticate(maria)
    pending = api.get("/api/v1/acknowledgements/", {"pending": "true"}).json()["results"]
    assert [(a["version"], a["is_pending"]) for a in pending] == [(pk, True)]
    done = api.post(f"/api/v1/acknowledgements/{pending[0]['id']}/acknowledge/").json()
    assert done["is_pending"] is False
    assert api.get("/api/v1/acknowledgements/", {"pending": "true"}).json()["results"] == []


def test_acknowledgements_of_others_are_hidden_from_associates(api, hacked_sop, lead, maria, suporte):
    from tests.factories import associate

    carla = associate([suporte], username="carla")
    version = services.publish_version(
        services.create_version(hacked_sop, language="pt", title="T", body="", must_read=True)
    )
    api.force_authenticate(maria)
    assert {a["user"] for a in api.get("/api/v1/acknowledgements/").json()["results"]} == {"maria"}
    api.force_authenticate(lead)
    users = {a["user"] for a in api.get("/api/v1/acknowledgements/", {"version": version.pk}).json()["results"]}
    assert {"maria", "carla", "lead.ana"} <= users
    assert carla.username in users


def test_macros_api_renders_for_a_ticket_and_keeps_personal_macros_private(api, pt_ticket, maria, lead):
    shared = MacroFactory(name="Shared")
    api.force_authenticate(maria)
    mine = api.post(
        "/api/v1/macros/", {"name": "Mine", "body_pt": "Oi {{ requester.first_name }}", "shared": True}, format="json"
    )
    assert mine.status_code == 201 and mine.json()["shared"] is False
    assert api.patch(f"/api/v1/macros/{shared.pk}/", {"name": "Hijacked"}).status_code == 404
    rendered = api.get(f"/api/v1/macros/{mine.json()['id']}/rendered/", {"ticket": pt_ticket.number}).json()
    assert rendered["text"] == "Oi João" and rendered["language"] == "pt"
    assert api.post("/api/v1/macros/", {"name": "Empty"}).status_code == 400

    api.force_authenticate(lead)
    assert "Mine" not in {m["name"] for m in api.get("/api/v1/macros/").json()}
    team = api.post(
        "/api/v1/macros/", {"name": "Team", "body_en": "Hi", "shared": True, "set_queue": "support"}, format="json"
    )
    assert team.status_code == 201 and Macro.objects.get(name="Team").is_shared
    assert Macro.objects.get(name="Team").set_queue.slug == "support"
