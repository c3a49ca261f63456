"""Portuguese or English: the two languages the team answers in. Which one a text is written in (Lingua,
restricted to the two), and how a content language (a ticket's, a macro's: `pt`/`en`) maps to the interface
language (`pt-br`/`en`) and back."""

from __future__ import annotations

from functools import lru_cache

from django.utils import translation
from lingua import Language as LinguaLanguage
from lingua import LanguageDetectorBuilder

from tickets.models import Language

# The interface language (settings.LANGUAGES) a text in each content language is read in.
INTERFACE_LANGUAGES = {Language.PT.value: "pt-br", Language.EN.value: "en"}
_CODES = {LinguaLanguage.PORTUGUESE: Language.PT, LinguaLanguage.ENGLISH: Language.EN}


@lru_cache(maxsize=1)
def _detector():
    # The minimum relative distance makes the detector answer None for text too short to tell.
    return LanguageDetectorBuilder.from_languages(*_CODES).with_minimum_relative_distance(0.05).build()


def detect_language(text: str) -> str | None:
    """'pt', 'en', or None when the text does not say (empty, numbers, a single word)."""
    sample = " ".join((text or "").split())[:2000]
    if len(sample) < 3:
        return None
    found = _detector().detect_language_of(sample)
    return _CODES.get(found) if found else None


def interface_language(language: str) -> str:
    """The interface language for text in this content language: mail to a requester, a CSV for a lead
    (`pt-br` when the content language is not known)."""
    return INTERFACE_LANGUAGES.get(language, "pt-br")


def reader_language() -> str:
    """The content language matching the active interface language: `en` for English readers, else `pt`."""
    return "en" if (translation.get_language() or "").startswith("en") else "pt"
