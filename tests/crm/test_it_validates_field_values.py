from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.crm.fields import (
    CURRENCY_DECIMALS,
    Color,
    Column,
    FieldDefinition,
    FieldError,
    FieldType,
    InvalidFieldDefinition,
    RecordInvalid,
    SelectOption,
    column_names,
    columns,
    quote_ident,
    search_columns,
    to_api,
    validate,
    validate_record,
)

STAGES = (
    SelectOption("new", "New", "جديد", Color.SKY),
    SelectOption("won", "Won", "مكسوب", Color.GREEN),
    SelectOption("lost", "Lost", "خاسر", Color.RED),
)


def field(type_: str, name: str = "value", **kwargs: Any) -> FieldDefinition:
    if type_ in ("select", "multi_select"):
        kwargs.setdefault("options", STAGES)
    return FieldDefinition(name, FieldType(type_), "Value", "القيمة", **kwargs)


def value_of(type_: str, value: Any, **kwargs: Any) -> dict[str, Any]:
    return validate(field(type_, **kwargs), value)


def reason(type_: str, value: Any, **kwargs: Any) -> str:
    with pytest.raises(FieldError) as caught:
        value_of(type_, value, **kwargs)
    assert caught.value.field == "value"
    assert str(caught.value) == f"value: {caught.value.reason}"
    return caught.value.reason


# Phones


@pytest.mark.parametrize(
    "notation",
    [
        "0501234567",
        "050 123 4567",
        "050-123-4567",
        "+966 50 123 4567",
        "+966501234567",
        "00966501234567",
        "966501234567",
        "٠٥٠١٢٣٤٥٦٧",
        "+٩٦٦٥٠١٢٣٤٥٦٧",
        "۰۵۰۱۲۳۴۵۶۷",
        "  0501234567  ",
    ],
)
def test_it_normalises_saudi_phone_notations_to_e164(notation: str) -> None:
    assert value_of("phones", notation) == {"value_primary": "+966501234567", "value_additional": []}


def test_it_keeps_foreign_numbers_and_uses_the_default_region_setting() -> None:
    assert value_of("phones", "+1 650 253 0000")["value_primary"] == "+16502530000"
    assert value_of("phones", "050 123 4567", settings={"default_region": "AE"})["value_primary"] == "+971501234567"
    assert value_of("phones", "011 234 5678")["value_primary"] == "+966112345678"


def test_it_dedupes_additional_phones_and_promotes_the_first_when_primary_is_missing() -> None:
    value = {"primary": "0501234567", "additional": ["+966501234567", "0551234567", "00966551234567"]}
    assert value_of("phones", value) == {"value_primary": "+966501234567", "value_additional": ["+966551234567"]}
    assert value_of("phones", {"additional": ["0551234567"]})["value_primary"] == "+966551234567"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12345", "not a valid phone number"),
        ("phone me", "not a phone number"),
        ("0501234567 ext 12", "extensions are not supported"),
        (501234567, 'expected "..." or {"primary"'),
        ({"primary": 501234567}, "primary: expected text"),
        ({"primary": "0501234567", "additional": "0551234567"}, "additional must be a list"),
        ({"primary": "0501234567", "additional": ["nope"]}, "additional:"),
        ({"primary": "0501234567", "fax": "x"}, "unknown key fax"),
        (["0501234567"], "expected"),
    ],
)
def test_it_rejects_bad_phones(value: Any, expected: str) -> None:
    assert expected in reason("phones", value)


# Emails


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Ahmed.Ali@Example.COM", "ahmed.ali@example.com"),
        ("  sara@salla.sa ", "sara@salla.sa"),
        ({"primary": "A@B.SA"}, "a@b.sa"),
    ],
)
def test_it_lower_cases_emails(value: Any, expected: str) -> None:
    assert value_of("emails", value)["value_primary"] == expected


def test_it_keeps_distinct_additional_emails() -> None:
    value = {"primary": "a@salla.sa", "additional": ["A@salla.sa", "b@salla.sa", "B@Salla.sa"]}
    assert value_of("emails", value) == {"value_primary": "a@salla.sa", "value_additional": ["b@salla.sa"]}


@pytest.mark.parametrize("value", ["not-an-email", "a@", "@salla.sa", "a b@salla.sa", "a@@salla.sa", "a@salla"])
def test_it_rejects_bad_emails(value: str) -> None:
    assert "not a valid email address" in reason("emails", value)


# Links


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://salla.sa/store", "https://salla.sa/store"),
        ("HTTP://Salla.SA/Store?q=1#top", "http://salla.sa/Store?q=1#top"),
        ("salla.sa", "https://salla.sa"),
        ("www.example.com/path", "https://www.example.com/path"),
        ({"primary_url": "https://x.sa", "primary_label": " Shop "}, "https://x.sa"),
    ],
)
def test_it_normalises_links(value: Any, expected: str) -> None:
    assert value_of("links", value)["value_primary_url"] == expected


def test_it_keeps_link_labels_and_additional_links() -> None:
    value = {
        "primary_url": "https://x.sa",
        "primary_label": "Shop",
        "additional": ["https://y.sa", {"url": "https://z.sa", "label": "Z"}, "https://x.sa"],
    }
    assert value_of("links", value) == {
        "value_primary_url": "https://x.sa",
        "value_primary_label": "Shop",
        "value_additional": [{"url": "https://y.sa", "label": None}, {"url": "https://z.sa", "label": "Z"}],
    }


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "ftp://files.example.com",
        "mailto:a@b.sa",
        "https://",
        "https://user:pass@salla.sa",
        "https://sal la.sa",
        "https://salla.sa:99999",
        "just words",
    ],
)
def test_it_rejects_links_that_are_not_http_urls(value: str) -> None:
    assert "URL" in reason("links", value)


def test_it_rejects_a_link_label_without_a_url() -> None:
    assert "needs a url" in reason("links", {"primary_label": "Shop"})


# Currency


@pytest.mark.parametrize(
    ("value", "minor", "code"),
    [
        ({"amount": "12.50", "currency": "SAR"}, 1250, "SAR"),
        ({"amount": "12.5"}, 1250, "SAR"),
        ({"amount": "12"}, 1200, "SAR"),
        ({"amount": 12}, 1200, "SAR"),
        ({"amount": "-3.05", "currency": "sar"}, -305, "SAR"),
        ({"amount": "12.500"}, 1250, "SAR"),
        ({"amount": "\u0661\u0662.\u0665\u0660"}, 1250, "SAR"),  # Arabic-Indic digits
        ({"amount_minor": 1250, "currency": "SAR"}, 1250, "SAR"),
        ({"amount": "12.50", "amount_minor": 1250}, 1250, "SAR"),
        ({"amount": "1.234", "currency": "KWD"}, 1234, "KWD"),
        ({"amount": "0.001", "currency": "BHD"}, 1, "BHD"),
        ({"amount": "5.5", "currency": "OMR"}, 5500, "OMR"),
        ({"amount": "1500", "currency": "JPY"}, 1500, "JPY"),
        ({"amount": "99.99", "currency": "USD"}, 9999, "USD"),
        ({"amount": "10.10", "currency": "EUR"}, 1010, "EUR"),
        ({"amount": "7.25", "currency": "AED"}, 725, "AED"),
        ({"amount": "7.25", "currency": "QAR"}, 725, "QAR"),
        ({"amount": "7.25", "currency": "EGP"}, 725, "EGP"),
    ],
)
def test_it_stores_money_in_minor_units(value: dict[str, Any], minor: int, code: str) -> None:
    assert value_of("currency", value) == {"value_amount_minor": minor, "value_currency": code}


def test_it_uses_the_default_currency_setting() -> None:
    assert value_of("currency", {"amount": "1.5"}, settings={"default_currency": "KWD"})["value_currency"] == "KWD"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"amount": "12.345", "currency": "SAR"}, "SAR amounts have at most 2 decimal places"),
        ({"amount": "1.2345", "currency": "KWD"}, "KWD amounts have at most 3 decimal places"),
        ({"amount": "1.5", "currency": "JPY"}, "JPY amounts have at most 0 decimal places"),
        ({"amount": 0.1 + 0.2}, "never as a floating-point number"),
        ({"amount": 12.5}, "never as a floating-point number"),
        ({"amount": "12.50", "currency": "XYZ"}, "unknown currency 'XYZ'"),
        ({"amount": "12.50", "currency": 682}, "unknown currency"),
        ({"amount": "1e3"}, "expected a finite number"),
        ({"amount": "NaN"}, "expected a finite number"),
        ({"amount": "12,50"}, "expected a finite number"),
        ({"amount": True}, "expected a finite number"),
        ({"amount_minor": "1250"}, "amount_minor must be an integer"),
        ({"amount_minor": 12.5}, "amount_minor must be an integer"),
        ({"amount_minor": True}, "amount_minor must be an integer"),
        ({"amount": "12.50", "amount_minor": 1200}, "disagree"),
        ({"currency": "SAR"}, "amount (or amount_minor) is required"),
        ({"amount_minor": 2**63}, "out of range"),
        ({"amount": "1" * 30}, "significant digits"),
        ({"amount": "1.00000000000000000000000000001"}, "significant digits"),
        ({"amount": "12.50", "note": "x"}, "unknown key note"),
        ("12.50", "expected {"),
    ],
)
def test_it_rejects_bad_money(value: Any, expected: str) -> None:
    assert expected in reason("currency", value)


def test_it_knows_the_minor_units_of_gulf_and_common_currencies() -> None:
    expected = {"SAR": 2, "USD": 2, "EUR": 2, "KWD": 3, "BHD": 3, "OMR": 3, "JPY": 0, "AED": 2, "QAR": 2, "EGP": 2}
    assert {code: CURRENCY_DECIMALS[code] for code in expected} == expected


@settings(database=None, max_examples=200)
@given(minor=st.integers(min_value=-(2**63), max_value=2**63 - 1), code=st.sampled_from(sorted(CURRENCY_DECIMALS)))
def test_it_round_trips_any_amount_exactly(minor: int, code: str) -> None:
    money = field("currency")
    api = to_api(money, validate(money, {"amount_minor": minor, "currency": code}))
    assert api["amount_minor"] == minor
    assert validate(money, {"amount": api["amount"], "currency": code})["value_amount_minor"] == minor


# Number, rating, boolean


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, Decimal(12)),
        (-3, Decimal(-3)),
        (0.1, Decimal("0.1")),
        (2.5, Decimal("2.5")),
        ("12.75", Decimal("12.75")),
        ("١٢٣", Decimal(123)),
        (Decimal("7.5"), Decimal("7.5")),
    ],
)
def test_it_stores_numbers_exactly(value: Any, expected: Decimal) -> None:
    assert value_of("number", value) == {"value": expected}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (float("nan"), "expected a finite number"),
        (float("inf"), "expected a finite number"),
        ("Infinity", "expected a finite number"),
        (Decimal("NaN"), "expected a finite number"),
        (True, "expected a finite number"),
        ("twelve", "expected a finite number"),
        ([1], "expected a finite number"),
        (10**15, "smaller than 10^15"),
        (1e20, "smaller than 10^15"),
    ],
)
def test_it_rejects_bad_numbers(value: Any, expected: str) -> None:
    assert expected in reason("number", value)


def test_it_limits_decimal_places_when_the_field_says_so() -> None:
    assert value_of("number", "1.25", settings={"decimals": 2}) == {"value": Decimal("1.25")}
    assert value_of("number", "1.250", settings={"decimals": 2}) == {"value": Decimal("1.250")}
    assert reason("number", "1.255", settings={"decimals": 2}) == "at most 2 decimal places"
    assert reason("number", 1.5, settings={"decimals": 0}) == "at most 0 decimal places"


@pytest.mark.parametrize(("value", "top"), [(1, 5), (5, 5), (10, 10), (3, 3)])
def test_it_accepts_ratings_within_the_scale(value: int, top: int) -> None:
    assert value_of("rating", value, settings={"max": top}) == {"value": value}


@pytest.mark.parametrize("value", [0, 6, -1, 4.0, "4", True])
def test_it_rejects_ratings_outside_the_scale(value: Any) -> None:
    assert reason("rating", value) == "expected a whole number from 1 to 5"


@pytest.mark.parametrize("value", [True, False])
def test_it_accepts_booleans(value: bool) -> None:
    assert value_of("boolean", value) == {"value": value}


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "on", []])
def test_it_rejects_anything_else_as_a_boolean(value: Any) -> None:
    assert reason("boolean", value) == "expected true or false"


# Text and rich text


def test_it_trims_text_and_treats_blank_as_empty() -> None:
    assert value_of("text", "  Riyadh  ") == {"value": "Riyadh"}
    assert value_of("text", "   ") == {"value": None}
    assert value_of("text", "متجر نون") == {"value": "متجر نون"}


@pytest.mark.parametrize(
    ("value", "expected", "kwargs"),
    [
        (42, "expected text", {}),
        ("a" * 10_001, "longer than 10000 characters", {}),
        ("abcdef", "longer than 5 characters", {"settings": {"max_length": 5}}),
        ("a\x00b", "contains a NUL character", {}),
    ],
)
def test_it_rejects_bad_text(value: Any, expected: str, kwargs: dict[str, Any]) -> None:
    assert reason("text", value, **kwargs) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Hello <b>VIP</b></p>", "<p>Hello <b>VIP</b></p>"),
        ("<b>hi</b><script>alert(1)</script>", "<b>hi</b>"),
        ('<img src="x" onerror="alert(1)"><b>bold</b>', "<b>bold</b>"),
        ('<p onclick="steal()">x</p>', "<p>x</p>"),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer nofollow">x</a>'),
        (
            '<a href="https://salla.sa" target="_blank">s</a>',
            '<a href="https://salla.sa" rel="noopener noreferrer nofollow">s</a>',
        ),
        ("<h1>Title</h1><h2>Sub</h2>", "Title<h2>Sub</h2>"),
        ("<style>p{color:red}</style><em>x</em>", "<em>x</em>"),
        (
            "<ul><li>a</li></ul><blockquote>q</blockquote><code>c</code>",
            "<ul><li>a</li></ul><blockquote>q</blockquote><code>c</code>",
        ),
        ("<iframe src='https://evil'></iframe>", None),
    ],
)
def test_it_sanitises_rich_text(html: str, expected: str | None) -> None:
    assert value_of("rich_text", html) == {"value": expected}


# Full name and address


def test_it_trims_name_parts_and_clears_an_empty_name() -> None:
    assert value_of("full_name", {"first": " Sara ", "last": "العتيبي"}) == {
        "value_first": "Sara",
        "value_last": "العتيبي",
    }
    assert value_of("full_name", {"first": "Sara"}) == {"value_first": "Sara", "value_last": None}
    assert value_of("full_name", {"first": " ", "last": None}) == {"value_first": None, "value_last": None}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sara Ali", "expected {"),
        ({"first": 1}, "first: expected text"),
        ({"middle": "x"}, "unknown key middle"),
    ],
)
def test_it_rejects_bad_names(value: Any, expected: str) -> None:
    assert expected in reason("full_name", value)


def test_it_normalises_addresses() -> None:
    value = {"street": " King Fahd Rd ", "city": "Riyadh", "region": "Riyadh", "postal_code": "12271", "country": "sa"}
    assert value_of("address", value) == {
        "value_street": "King Fahd Rd",
        "value_city": "Riyadh",
        "value_region": "Riyadh",
        "value_postal_code": "12271",
        "value_country": "SA",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"country": "KSA"}, "country: longer than 2 characters"),
        ({"country": "XX"}, "country: 'XX' is not an ISO 3166 country code"),
        ({"city": ["Riyadh"]}, "city: expected text"),
        ({"zip": "12271"}, "unknown key zip"),
    ],
)
def test_it_rejects_bad_addresses(value: Any, expected: str) -> None:
    assert expected in reason("address", value)


# Select


def test_it_accepts_select_options() -> None:
    assert value_of("select", "won") == {"value": "won"}
    assert value_of("select", "") == {"value": None}


@pytest.mark.parametrize(("value", "expected"), [("WON", "is not one of new, won, lost"), (1, "expected text")])
def test_it_rejects_unknown_select_options(value: Any, expected: str) -> None:
    assert expected in reason("select", value)


def test_it_stores_multi_select_options_in_option_order() -> None:
    assert value_of("multi_select", ["lost", "new"]) == {"value": ["new", "lost"]}
    assert value_of("multi_select", []) == {"value": None}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("new", "expected a list of options"),
        (["new", "new"], "options must be distinct"),
        (["new", "maybe"], "'maybe' is not one of"),
        (["new", ""], "options cannot be blank"),
    ],
)
def test_it_rejects_bad_multi_select_values(value: Any, expected: str) -> None:
    assert expected in reason("multi_select", value)


# Date, datetime, relation, json


def test_it_parses_iso_dates() -> None:
    assert value_of("date", "2025-01-31") == {"value": date(2025, 1, 31)}
    assert value_of("date", date(2024, 2, 29)) == {"value": date(2024, 2, 29)}


@pytest.mark.parametrize("value", ["2025-02-30", "31/01/2025", "20250131", "2025-W05-1", "2025-01-31T00:00:00Z"])
def test_it_rejects_dates_that_are_not_yyyy_mm_dd(value: str) -> None:
    assert "is not a date in the form 2025-01-31" in reason("date", value)


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-31T09:30:00+03:00",
        "2025-01-31T06:30:00Z",
        "2025-01-31 06:30:00+00:00",
        datetime(2025, 1, 31, 6, 30, tzinfo=UTC),
    ],
)
def test_it_stores_datetimes_in_utc(value: Any) -> None:
    assert value_of("datetime", value) == {"value": datetime(2025, 1, 31, 6, 30, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-31T09:30:00", "needs a UTC offset"),
        (datetime(2025, 1, 31, 9, 30), "needs a UTC offset"),
        ("2025-01-31", "is not an ISO 8601 datetime"),
        ("yesterday", "is not an ISO 8601 datetime"),
        ("2025-13-01T00:00:00Z", "is not an ISO 8601 datetime"),
        (1738300000, "expected text"),
    ],
)
def test_it_rejects_naive_or_malformed_datetimes(value: Any, expected: str) -> None:
    assert expected in reason("datetime", value)


def test_it_accepts_record_ids_for_relations() -> None:
    record_id = uuid.uuid4()
    assert value_of("relation", str(record_id).upper()) == {"value": record_id}
    assert value_of("relation", record_id) == {"value": record_id}


@pytest.mark.parametrize("value", ["42", "not-a-uuid", "'; DROP TABLE people; --"])
def test_it_rejects_relations_that_are_not_uuids(value: str) -> None:
    assert "is not a record id (UUID)" in reason("relation", value)


@pytest.mark.parametrize("value", [{"a": [1, 2.5, "x", True, None]}, [1, 2], "text", 3, False])
def test_it_stores_any_json_value(value: Any) -> None:
    assert value_of("json", value) == {"value": value}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"n": float("nan")}, "not a JSON value"),
        ({"when": date(2025, 1, 1)}, "not a JSON value"),
        ({"a": "x" * 100}, "larger than 50 bytes"),
        ({"a": "\x00"}, "contains a NUL character"),
    ],
)
def test_it_rejects_values_that_are_not_small_json(value: Any, expected: str) -> None:
    assert reason("json", value, settings={"max_bytes": 50}) == expected


# None, required, defaults and whole records


@pytest.mark.parametrize("type_", list(FieldType))
def test_it_clears_every_column_of_a_field_with_none(type_: FieldType) -> None:
    definition = field(type_)
    assert validate(definition, None) == dict.fromkeys(column_names(definition))


@pytest.mark.parametrize("type_", list(FieldType))
def test_it_refuses_to_clear_a_required_field(type_: FieldType) -> None:
    with pytest.raises(FieldError) as caught:
        validate(field(type_, required=True), None)
    assert caught.value.reason == "required"


@pytest.mark.parametrize(
    ("type_", "blank"),
    [("text", "  "), ("phones", ""), ("emails", {"primary": " "}), ("multi_select", []), ("full_name", {})],
)
def test_it_treats_a_blank_value_of_a_required_field_as_missing(type_: str, blank: Any) -> None:
    assert reason(type_, blank, required=True) == "required"


PEOPLE = (
    FieldDefinition("name", FieldType.FULL_NAME, "Name", "الاسم", required=True),
    FieldDefinition("email", FieldType.EMAILS, "Email", "البريد", unique=True),
    FieldDefinition("phone", FieldType.PHONES, "Phone", "الجوال"),
    FieldDefinition("vip", FieldType.BOOLEAN, "VIP", "مميز", default=False),
)


def test_it_validates_a_whole_record() -> None:
    data = {"name": {"first": "Sara"}, "email": "Sara@Salla.SA", "phone": "0501234567"}
    assert validate_record(PEOPLE, data, partial=False) == {
        "name_first": "Sara",
        "name_last": None,
        "email_primary": "sara@salla.sa",
        "email_additional": [],
        "phone_primary": "+966501234567",
        "phone_additional": [],
        "vip": False,
    }


def test_it_collects_every_error_of_a_record() -> None:
    data = {"email": "nope", "phone": "123", "vip": "yes", "age": 3}
    with pytest.raises(RecordInvalid) as caught:
        validate_record(PEOPLE, data, partial=False)
    errors = caught.value.errors
    assert set(errors) == {"name", "email", "phone", "vip", "age"}
    assert errors["name"] == "required"
    assert errors["age"] == "unknown field"
    assert errors["vip"] == "expected true or false"
    assert "not a valid email address" in errors["email"]
    assert "name: required" in str(caught.value)


def test_it_allows_missing_required_fields_in_a_partial_update_but_not_clearing_them() -> None:
    assert validate_record(PEOPLE, {"vip": True}, partial=True) == {"vip": True}
    assert validate_record(PEOPLE, {}, partial=True) == {}
    with pytest.raises(RecordInvalid) as caught:
        validate_record(PEOPLE, {"name": None}, partial=True)
    assert caught.value.errors == {"name": "required"}


def test_it_does_not_apply_defaults_to_a_partial_update() -> None:
    assert "vip" not in validate_record(PEOPLE, {"name": {"last": "Ali"}}, partial=True)


def test_it_reports_unknown_fields_even_in_a_partial_update() -> None:
    with pytest.raises(RecordInvalid) as caught:
        validate_record(PEOPLE, {"name_first": "x", "id": "y"}, partial=True)
    assert caught.value.errors == {"name_first": "unknown field", "id": "unknown field"}


# Round trips


ROUND_TRIPS: list[tuple[str, Any, Any]] = [
    ("text", " Riyadh ", "Riyadh"),
    ("number", "12.75", 12.75),
    ("number", 12, 12),
    ("number", "1.50", 1.5),
    ("currency", {"amount": "12.5"}, {"amount": "12.50", "amount_minor": 1250, "currency": "SAR"}),
    (
        "currency",
        {"amount_minor": 1234, "currency": "KWD"},
        {"amount": "1.234", "amount_minor": 1234, "currency": "KWD"},
    ),
    ("currency", {"amount": "-7", "currency": "JPY"}, {"amount": "-7", "amount_minor": -7, "currency": "JPY"}),
    ("phones", "٠٥٠١٢٣٤٥٦٧", {"primary": "+966501234567", "additional": []}),
    (
        "phones",
        {"primary": "0501234567", "additional": ["0551234567"]},
        {"primary": "+966501234567", "additional": ["+966551234567"]},
    ),
    ("emails", "A@Salla.SA", {"primary": "a@salla.sa", "additional": []}),
    (
        "links",
        {"primary_url": "salla.sa", "primary_label": "Store", "additional": ["https://x.sa"]},
        {
            "primary_url": "https://salla.sa",
            "primary_label": "Store",
            "additional": [{"url": "https://x.sa", "label": None}],
        },
    ),
    ("full_name", {"first": "Sara", "last": "Ali"}, {"first": "Sara", "last": "Ali"}),
    (
        "address",
        {"city": "Jeddah", "country": "sa"},
        {"street": None, "city": "Jeddah", "region": None, "postal_code": None, "country": "SA"},
    ),
    ("select", "won", "won"),
    ("multi_select", ["won", "new"], ["new", "won"]),
    ("boolean", False, False),
    ("date", "2025-01-31", "2025-01-31"),
    ("datetime", "2025-01-31T09:30:00.5+03:00", "2025-01-31T06:30:00.500000Z"),
    ("rating", 4, 4),
    ("rich_text", "<b>hi</b><script>x()</script>", "<b>hi</b>"),
    ("relation", "6F9619FF-8B86-D011-B42D-00C04FC964FF", "6f9619ff-8b86-d011-b42d-00c04fc964ff"),
    ("json", {"tags": ["a"], "n": 1}, {"tags": ["a"], "n": 1}),
]


def test_round_trips_cover_every_type() -> None:
    assert {type_ for type_, _, _ in ROUND_TRIPS} == set(FieldType)


@pytest.mark.parametrize(("type_", "value", "api"), ROUND_TRIPS)
def test_it_round_trips_every_type_to_the_api_shape(type_: str, value: Any, api: Any) -> None:
    definition = field(type_)
    assert to_api(definition, validate(definition, value)) == api
    assert validate(definition, api) == validate(definition, value)


@pytest.mark.parametrize("type_", list(FieldType))
def test_it_gives_an_empty_api_value_for_a_cleared_field(type_: FieldType) -> None:
    definition = field(type_)
    assert to_api(definition, validate(definition, None)) == ([] if type_ is FieldType.MULTI_SELECT else None)


def test_it_reads_padded_char_columns() -> None:
    row = {"value_amount_minor": 500, "value_currency": "SAR"}
    assert to_api(field("currency"), row) == {"amount": "5.00", "amount_minor": 500, "currency": "SAR"}


@settings(database=None, max_examples=100)
@given(text=st.text(max_size=200))
def test_it_round_trips_any_text_without_nul(text: str) -> None:
    definition = field("text")
    if "\x00" in text:
        return
    assert to_api(definition, validate(definition, text)) == (text.strip() or None)


@settings(database=None, max_examples=100)
@given(html=st.text(alphabet=st.sampled_from(list("<>/=\"' abscriptonerrorimg")), max_size=80))
def test_it_never_lets_script_or_event_handlers_through(html: str) -> None:
    clean = validate(field("rich_text"), "<b>" + html + "<script>alert(1)</script><img src=x onerror=y>")["value"]
    assert clean is not None
    assert "<script" not in clean
    assert not re.search(r"<[^>]*\son[a-z]*\s*=", clean)
    assert "<img" not in clean


# Columns


COLUMNS: list[tuple[str, list[tuple[str, str]]]] = [
    ("text", [("value", "text")]),
    ("number", [("value", "numeric")]),
    ("currency", [("value_amount_minor", "bigint"), ("value_currency", "char(3)")]),
    ("phones", [("value_primary", "text"), ("value_additional", "jsonb")]),
    ("emails", [("value_primary", "text"), ("value_additional", "jsonb")]),
    ("links", [("value_primary_url", "text"), ("value_primary_label", "text"), ("value_additional", "jsonb")]),
    ("full_name", [("value_first", "text"), ("value_last", "text")]),
    (
        "address",
        [
            ("value_street", "text"),
            ("value_city", "text"),
            ("value_region", "text"),
            ("value_postal_code", "text"),
            ("value_country", "char(2)"),
        ],
    ),
    ("select", [("value", "text")]),
    ("multi_select", [("value", "text[]")]),
    ("boolean", [("value", "boolean")]),
    ("date", [("value", "date")]),
    ("datetime", [("value", "timestamptz")]),
    ("rating", [("value", "smallint")]),
    ("rich_text", [("value", "text")]),
    ("relation", [("value", "uuid")]),
    ("json", [("value", "jsonb")]),
]


def test_column_cases_cover_every_type() -> None:
    assert {type_ for type_, _ in COLUMNS} == set(FieldType)


@pytest.mark.parametrize(("type_", "expected"), COLUMNS)
def test_it_maps_every_type_to_postgresql_columns(type_: str, expected: list[tuple[str, str]]) -> None:
    definition = field(type_)
    assert [(column.name, column.sql_type) for column in columns(definition)] == expected
    assert all(column.nullable for column in columns(definition))
    assert column_names(definition) == [name for name, _ in expected]
    assert set(validate(definition, None)) == {name for name, _ in expected}


def test_it_makes_filled_columns_of_required_fields_not_null() -> None:
    money = columns(field("currency", name="amount", required=True))
    assert [column.ddl for column in money] == [
        '"amount_amount_minor" bigint NOT NULL',
        '"amount_currency" char(3) NOT NULL',
    ]
    phone = columns(field("phones", name="phone", required=True))
    assert [column.ddl for column in phone] == ['"phone_primary" text NOT NULL', '"phone_additional" jsonb']
    assert all(column.nullable for column in columns(field("full_name", required=True)))


def test_it_names_the_columns_that_feed_search() -> None:
    assert search_columns(field("full_name", name="name", searchable=True)) == ["name_first", "name_last"]
    assert search_columns(field("phones", name="phone", searchable=True)) == ["phone_primary"]
    assert search_columns(field("text", name="notes")) == []


def test_it_quotes_identifiers() -> None:
    assert quote_ident("order") == '"order"'
    assert Column("select", "text", nullable=False).ddl == '"select" text NOT NULL'
    for bad in ['a"b', "Name", "name; DROP TABLE x", "", "1a", "a" * 64]:
        with pytest.raises(ValueError, match="not a safe SQL identifier"):
            quote_ident(bad)


# Definitions


@pytest.mark.parametrize(
    "name",
    [
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        "created_by",
        "updated_by",
        "position",
        "search_vector",
        "xmin",
        "ctid",
        "Name",
        "first name",
        "name; DROP TABLE x",
        'name"',
        "1st",
        "_hidden",
        "",
        "اسم",
        "a" * 64,
    ],
)
def test_it_rejects_invalid_field_names(name: str) -> None:
    with pytest.raises(InvalidFieldDefinition):
        field("text", name=name)


def test_it_rejects_names_whose_columns_would_be_too_long_or_reserved() -> None:
    assert field("text", name="a" * 63).name == "a" * 63
    assert field("links", name="a" * 49).name == "a" * 49
    with pytest.raises(InvalidFieldDefinition, match="at most 49 characters"):
        field("links", name="a" * 50)
    with pytest.raises(InvalidFieldDefinition, match="reserved"):
        field("date", name="created_at")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"type_": "colour"}, "unknown field type 'colour'"),
        ({"type_": "select", "options": ()}, "needs between 1 and 200 options"),
        ({"type_": "text", "options": STAGES}, "has no options"),
        ({"type_": "select", "options": (STAGES[0], STAGES[0])}, "option values must be distinct"),
        ({"type_": "text", "settings": {"max_len": 5}}, "has no setting 'max_len'"),
        ({"type_": "text", "settings": {"max_length": 0}}, "max_length must be"),
        ({"type_": "rating", "settings": {"max": 11}}, "max must be"),
        ({"type_": "currency", "settings": {"default_currency": "XXX"}}, "default_currency must be"),
        ({"type_": "phones", "settings": {"default_region": "KSA"}}, "default_region must be"),
        ({"type_": "json", "unique": True}, "cannot be unique"),
        ({"type_": "boolean", "searchable": True}, "cannot be searchable"),
        ({"type_": "rating", "default": 9}, "default: expected a whole number from 1 to 5"),
    ],
)
def test_it_rejects_invalid_definitions(kwargs: dict[str, Any], expected: str) -> None:
    type_ = kwargs.pop("type_")
    with pytest.raises(ValueError, match=expected):
        field(type_, **kwargs) if type_ in set(FieldType) else FieldDefinition("x", type_, "X", "س", **kwargs)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("New", "New", "جديد"), "must be snake_case"),
        (("new", "", "جديد"), "label_en must be"),
        (("new", "New", "  "), "label_ar must be"),
        (("new", "New", "جديد", "mauve"), "unknown colour 'mauve'"),
    ],
)
def test_it_rejects_invalid_options(args: tuple[Any, ...], expected: str) -> None:
    with pytest.raises(InvalidFieldDefinition, match=expected):
        SelectOption(*args)


def test_it_fills_in_default_settings_and_accepts_colour_names() -> None:
    assert dict(field("currency").settings) == {"default_currency": "SAR"}
    assert dict(field("phones").settings) == {"default_region": "SA"}
    assert dict(field("rating").settings) == {"max": 5}
    assert SelectOption("vip", "VIP", "مميز", "purple").color is Color.PURPLE
    assert FieldDefinition("value", "text", "Value", "القيمة") == field("text", settings={"max_length": 10_000})
