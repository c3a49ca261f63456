"""The pt-BR catalogue is complete: no untranslated or fuzzy entry, the compiled file matches it, and every
model field has a label that can be translated (forms and the admin show them)."""

from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.utils import translation

from helpdesk.field_labels import untranslated_fields

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "pt_BR" / "LC_MESSAGES"
CATALOGUES = [path for path in (LOCALE / "django.po", LOCALE / "djangojs.po") if path.exists()]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.name)
def test_the_pt_br_catalogue_has_no_untranslated_or_fuzzy_entry(path):
    catalogue = polib.pofile(str(path))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []
    assert catalogue.percent_translated() == 100


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.name)
def test_the_compiled_catalogue_matches_its_source(path):
    def entries(catalogue):
        return {(entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural for entry in catalogue}

    source = entries(polib.pofile(str(path)).translated_entries())
    compiled = entries(polib.mofile(str(path.with_suffix(".mo"))))
    stale = sorted(msgid for key, msgid in ((k, k[1]) for k in source) if compiled.get(key) != source[key])
    assert stale == []


@pytest.mark.parametrize("app", ["tickets", "sop", "metrics"])
def test_every_model_field_has_a_translatable_label(app):
    assert untranslated_fields(apps.get_app_config(app)) == []


def test_form_and_admin_labels_follow_the_language():
    field = apps.get_model("tickets", "Ticket")._meta.get_field("created_at")
    with translation.override("pt-br"):
        assert str(field.verbose_name) == "criado em"
    with translation.override("en"):
        assert str(field.verbose_name) == "created at"


def test_the_login_lockout_admin_speaks_portuguese_though_its_package_ships_no_catalogue():
    from axes.models import AccessAttempt, AccessLog
    from django.utils import translation

    with translation.override("pt-br"):
        assert str(AccessAttempt._meta.verbose_name_plural) == "tentativas de acesso"
        assert str(AccessLog._meta.get_field("user_agent").verbose_name) == "Navegador (User Agent)"
