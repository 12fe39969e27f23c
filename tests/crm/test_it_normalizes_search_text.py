from __future__ import annotations

import pytest

from app.crm.search_text import normalize, phone_search_terms, search_text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("أحمد", "احمد"),
        ("إبراهيم", "ابراهيم"),
        ("آمنة", "امنه"),
        ("مُحَمَّد", "محمد"),  # diacritics
        ("محـــمد", "محمد"),  # tatweel
        ("مصطفى", "مصطفي"),  # alef maqsura
        ("فاطمة", "فاطمه"),  # ta marbuta
        ("مسؤول", "مسوول"),
        ("الرياض  ", "الرياض"),
        ("José Müller", "jose muller"),
        ("ÉCOLE", "ecole"),
        ("Straße", "strasse"),
        ("طلب ١٢٣", "طلب 123"),
        ("۱۲۳", "123"),
    ],
)
def test_it_reduces_what_people_type_to_one_form(typed: str, stored: str) -> None:
    assert normalize(typed) == stored


def test_the_same_name_spelled_differently_matches() -> None:
    assert normalize("أَحْمَد الغامدي") == normalize("احمد الغامدى") == "احمد الغامدي"


def test_a_saudi_phone_is_found_in_every_common_notation() -> None:
    terms = phone_search_terms("+966501234567")

    assert terms == ["966501234567", "501234567", "0501234567"]


def test_a_foreign_phone_is_indexed_as_its_digits() -> None:
    assert phone_search_terms("+14155550123") == ["14155550123"]


def test_search_text_joins_normalised_values_and_phone_forms() -> None:
    text = search_text(["  Noor  ", None, "نُور"], phones=["+966501234567", None])

    assert text == "noor نور 966501234567 501234567 0501234567"
