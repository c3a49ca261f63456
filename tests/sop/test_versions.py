import pytest

from sop import services
from sop.models import SOPVersion
from tests.factories import SOPFactory

pytestmark = pytest.mark.django_db


def test_versions_are_numbered_per_language(lead):
    sop = SOPFactory()
    pt1 = services.create_version(sop, language="pt", title="Um", body="", actor=lead)
    pt2 = services.create_version(sop, language="pt", title="Dois", body="", actor=lead)
    en1 = services.create_version(sop, language="en", title="One", body="", actor=lead)
    assert (pt1.number, pt2.number, en1.number) == (1, 2, 1)
    assert all(v.status == SOPVersion.Status.DRAFT and not v.is_current for v in (pt1, pt2, en1))


def test_publishing_makes_a_version_current_and_supersedes_the_previous_one(lead):
    sop = SOPFactory()
    first = services.publish_version(services.create_version(sop, language="pt", title="Um", body="a"))
    english = services.publish_version(services.create_version(sop, language="en", title="One", body="a"))
    second = services.publish_version(services.create_version(sop, language="pt", title="Dois", body="b"))
    first.refresh_from_db()
    english.refresh_from_db()
    assert second.is_current and second.published_at is not None
    assert not first.is_current and first.status == SOPVersion.Status.PUBLISHED
    assert english.is_current  # the other language's line is untouched


def test_a_published_version_cannot_be_edited_nor_published_again(lead):
    sop = SOPFactory()
    version = services.publish_version(services.create_version(sop, language="pt", title="Um", body="a"))
    with pytest.raises(services.SOPError):
        services.update_draft(version, title="Outro", body="b", steps=[])
    with pytest.raises(services.SOPError):
        services.publish_version(version)


def test_editing_a_draft_replaces_its_checklist_in_order(lead):
    sop = SOPFactory()
    draft = services.create_version(sop, language="pt", title="Um", body="", steps=["a", "b"])
    services.update_draft(draft, title="Um", body="", steps=[("c", True), "d", "  "])
    assert [(s.position, s.text, s.required) for s in draft.steps.all()] == [(1, "c", True), (2, "d", False)]


def test_steps_from_text_marks_required_lines_with_a_bang():
    assert services.steps_from_text("! Confirmar identidade\nBloquear\n\n!Registrar") == [
        ("Confirmar identidade", True),
        ("Bloquear", False),
        ("Registrar", True),
    ]


def test_markdown_body_is_rendered_and_sanitised(lead):
    sop = SOPFactory()
    version = services.create_version(
        sop,
        language="en",
        title="T",
        body="**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    )
    assert "<strong>bold</strong>" in version.body_html
    assert "<script" not in version.body_html
    assert "javascript:" not in version.body_html
    assert "onerror" not in version.body_html


def test_new_version_is_linked_to_the_current_version_in_the_other_language(hacked_sop):
    english = hacked_sop.versions.get(language="en", is_current=True)
    draft = services.create_version(hacked_sop, language="en", title="Hacked account", body="new")
    portuguese = hacked_sop.versions.get(language="pt", is_current=True)
    assert english.counterpart == portuguese
    assert draft.counterpart == portuguese


def test_diff_shows_changed_body_lines_and_checklist_steps(lead):
    sop = SOPFactory()
    old = services.create_version(
        sop, language="pt", title="Conta", body="Passo um.\nPasso dois.\nFim.", steps=[("Confirmar", True)]
    )
    new = services.create_version(
        sop,
        language="pt",
        title="Conta",
        body="Passo um.\nPasso 2, revisado.\nFim.",
        steps=[("Confirmar", True), "Bloquear"],
    )
    lines = [(line.kind, line.text) for line in services.version_diff(old, new)]
    assert ("removed", "Passo dois.") in lines
    assert ("added", "Passo 2, revisado.") in lines
    assert ("added", "- [ ] Bloquear") in lines
    assert ("same", "- [!] Confirmar") in lines
    assert services.version_diff(new, new) == []
