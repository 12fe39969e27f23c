"""Text as search sees it: Arabic and Latin normalised so that people find what they mean, however it was typed.

Arabic: diacritics (tashkeel) and the tatweel are dropped; the alef forms (أ إ آ ٱ) become ا, alef maqsura (ى)
becomes ي, ta marbuta (ة) becomes ه, and hamza carriers (ؤ ئ) become و ي. Latin: case-folded, accents dropped.
Arabic-Indic and Persian digits become 0-9. Phone numbers are also indexed as bare digits, in the local
(0 5x...) and international (9665x...) forms, so any common notation finds them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["normalize", "phone_search_terms", "search_text"]

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_LETTERS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
    }
)
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The form both the stored text and the query are reduced to."""
    text = _ARABIC_MARKS.sub("", text).translate(_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    # Drop Latin combining accents; Arabic marks were removed above.
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", unicodedata.normalize("NFC", stripped)).strip()


def phone_search_terms(e164: str) -> list[str]:
    """A Saudi number +966501234567 is also found as 966501234567, 0501234567 and 501234567."""
    digits = e164.lstrip("+")
    terms = [digits]
    if digits.startswith("966") and len(digits) > 3:
        local = digits[3:]
        terms += [local, "0" + local]
    return terms


def search_text(values: Iterable[str | None], phones: Iterable[str | None] = ()) -> str:
    """What goes into a record's ``search_text`` column."""
    parts = [normalize(value) for value in values if value]
    for phone in phones:
        if phone:
            parts.extend(phone_search_terms(phone))
    return " ".join(part for part in parts if part)
