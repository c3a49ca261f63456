"""The language menu's options (`language_options`): each language named in itself, so that a reader finds
their own language whichever language the page is in, the active one selected.

The template's loop meant to do this (`{% language code %}{{ name }}`), but `get_available_languages` had
already translated the names into the page's language, so an English page offered "Portuguese (Brazil)"."""

import re

import pytest
from django.template import engines
from django.utils import translation

TAG = "{% load i18n language_tags %}{% get_current_language as LANGUAGE_CODE %}{% language_options LANGUAGE_CODE %}"


def _options(source: str) -> list[tuple[str, bool, str]]:
    html = engines["django"].from_string(source).render({})
    return [
        (code, bool(selected), name)
        for code, selected, name in re.findall(r'<option value="([^"]+)" (selected)?>([^<]*)</option>', html)
    ]


@pytest.mark.parametrize("language", ["pt-br", "en"])
def test_each_language_is_named_in_itself_and_the_active_one_selected(language):
    with translation.override(language):
        options = _options(TAG)
        assert _options(TAG) == options  # kept: the menu reads the same a second time
    assert options == [
        ("pt-br", language == "pt-br", "Português (Brasil)"),
        ("en", language == "en", "English"),
    ]
