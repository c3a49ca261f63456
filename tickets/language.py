"""Portuguese or English? Lingua, restricted to the two languages the team answers in."""

from __future__ import annotations

from functools import lru_cache

from lingua import Language as LinguaLanguage
from lingua import LanguageDetectorBuilder

from tickets.models import Language

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
