"""Salla payloads → CRM values (app.salla.mapping), for the shapes Salla really sends: numbers as strings, amounts
as objects, plain numbers or text, PHP date objects, mobiles as numbers without their country code, missing
fields, wrapped orders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.salla import mapping
from app.salla.mapping import UnusablePayload

AS_OF = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "expected"),
    [(123, "123"), ("123", "123"), (123.0, "123"), (" 77 ", "77"), ("١٢٣", "123"), (None, None), (True, None)],
)
def test_it_reads_ids_in_every_spelling(given: object, expected: str | None) -> None:
    assert mapping.salla_id(given) == expected


@pytest.mark.parametrize(
    ("given", "currency", "expected"),
    [
        ({"amount": 104.35, "currency": "SAR"}, None, {"amount_minor": 10435, "currency": "SAR"}),
        ({"amount": 120, "currency": "sar"}, None, {"amount_minor": 12000, "currency": "SAR"}),
        ("99.5", None, {"amount_minor": 9950, "currency": "SAR"}),
        ("1,250.00", "SAR", {"amount_minor": 125000, "currency": "SAR"}),
        ({"amount": "12.345", "currency": "KWD"}, None, {"amount_minor": 12345, "currency": "KWD"}),
        (10.005, None, {"amount_minor": 1001, "currency": "SAR"}),
        (0.1, None, {"amount_minor": 10, "currency": "SAR"}),
        ({"amount": None, "currency": "SAR"}, None, None),
        ("abc", None, None),
        (None, None, None),
    ],
)
def test_it_turns_amounts_into_minor_units(given: object, currency: str | None, expected: object) -> None:
    assert mapping.money(given, currency) == expected


@pytest.mark.parametrize(
    "given",
    [
        {"date": "2024-03-10 14:22:05.000000", "timezone_type": 3, "timezone": "Asia/Riyadh"},
        {"date": "2024-03-10 14:22:05.000000", "timezone_type": 3, "timezone": "Not/AZone"},
        "2024-03-10 14:22:05",
        "2024-03-10T11:22:05Z",
        "Sun Mar 10 2024 14:22:05 GMT+0300",
        1710069725,
    ],
)
def test_it_reads_salla_times_as_utc(given: object) -> None:
    assert mapping.salla_time(given) == datetime(2024, 3, 10, 11, 22, 5, tzinfo=UTC)


@pytest.mark.parametrize("given", [None, "", "soon", {"date": "?"}, {}, [], 0])
def test_unreadable_times_are_none(given: object) -> None:
    assert mapping.salla_time(given) is None


@pytest.mark.parametrize(
    ("mobile", "code", "expected"),
    [
        (501234567, "+966", "+966501234567"),
        ("0501234567", "+966", "+966501234567"),
        ("966501234567", "+966", "+966501234567"),
        ("+966501234567", None, "+966501234567"),
        ("00971501234567", "+966", "+971501234567"),
        ("٠٥٠١٢٣٤٥٦٧", None, "0501234567"),
        ("50 123 4567", "966", "+966501234567"),
        ("", "+966", None),
        (None, "+966", None),
    ],
)
def test_it_joins_the_mobile_and_its_country_code(mobile: object, code: object, expected: str | None) -> None:
    assert mapping.phone_number(mobile, code) == expected


def test_a_customer_becomes_a_person() -> None:
    record = mapping.customer_record(
        {
            "id": 201000007,
            "first_name": "نورة",
            "last_name": "العتيبي",
            "mobile": 555123456,
            "mobile_code": "+966",
            "email": "Noura@Example.SA",
            "city": "الرياض",
            "country": "السعودية",
            "country_code": "SA",
            "updated_at": {"date": "2026-10-01 12:00:00.000000", "timezone_type": 3, "timezone": "Asia/Riyadh"},
            "groups": [],
        },
        as_of=AS_OF,
    )

    assert record.salla_id == "201000007"
    assert record.values == {
        "first_name": "نورة",
        "last_name": "العتيبي",
        "email": "Noura@Example.SA",  # the engine lower-cases it
        "phone": "+966555123456",
        "city": "الرياض",
        "country": "السعودية",
    }
    assert record.updated_at == datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def test_a_customer_without_some_fields_leaves_them_out_and_uses_the_read_time() -> None:
    record = mapping.customer_record({"id": "5", "first_name": "Sara", "country_code": "SA"}, as_of=AS_OF)

    assert record.values == {"first_name": "Sara", "last_name": None, "country": "SA"}
    assert record.updated_at == AS_OF


def test_a_record_without_an_id_is_unusable() -> None:
    with pytest.raises(UnusablePayload):
        mapping.customer_record({"first_name": "Sara"})
    with pytest.raises(UnusablePayload):
        mapping.order_record({"order": {"reference_id": 1}})


def test_a_product_becomes_a_product() -> None:
    record = mapping.product_record(
        {
            "id": 1000000042,
            "name": "دهن عود ملكي",
            "sku": "07-1043",
            "price": {"amount": 349.99, "currency": "SAR"},
            "status": "sale",
            "quantity": "12",
            "unlimited_quantity": False,
            "main_image": "https://cdn.salla.sa/x/42.jpg",
            "updated_at": "2026-10-01 12:00:00",
        }
    )

    assert record.values == {
        "name": "دهن عود ملكي",
        "sku": "07-1043",
        "price": {"amount_minor": 34999, "currency": "SAR"},
        "status": "sale",
        "quantity": 12,
        "image_url": "https://cdn.salla.sa/x/42.jpg",
    }
    assert record.updated_at == datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def test_product_variants_unlimited_stock_unknown_status_and_no_name() -> None:
    record = mapping.product_record(
        {
            "id": 9,
            "sku": "X-9",
            "price": 15,
            "status": "deleted",
            "quantity": None,
            "unlimited_quantity": True,
            "images": [{"url": "https://cdn.salla.sa/x/9.jpg"}],
        }
    )

    assert record.values == {
        "name": "X-9",
        "sku": "X-9",
        "price": {"amount_minor": 1500, "currency": "SAR"},
        "quantity": None,
        "image_url": "https://cdn.salla.sa/x/9.jpg",
    }


ORDER_SUMMARY = {
    "id": 1500000003,
    "reference_id": 10000003,
    "total": {"amount": 287.5, "currency": "SAR"},
    "date": {"date": "2026-10-20 18:30:00.000000", "timezone_type": 3, "timezone": "Asia/Riyadh"},
    "status": {"id": 566146469, "name": "تم التنفيذ", "slug": "completed", "customized": {"id": 1, "name": "مكتمل"}},
    "items": [{"name": "قميص", "quantity": 2, "thumbnail": "t.jpg"}, {"name": "حذاء", "quantity": "1"}],
    "customer": {"id": 201000007, "first_name": "نورة"},
}


def test_an_order_summary_becomes_an_order_with_summary_lines() -> None:
    record = mapping.order_record(ORDER_SUMMARY, as_of=AS_OF)

    assert record.salla_id == "1500000003"
    assert record.values == {
        "reference": "10000003",
        "status": "مكتمل",
        "total": {"amount_minor": 28750, "currency": "SAR"},
        "ordered_at": datetime(2026, 10, 20, 15, 30, tzinfo=UTC),
        "item_count": 3,
        "item_summary": "2 × قميص, 1 × حذاء",
    }
    assert record.links == {"customer": "201000007"}
    assert record.updated_at == AS_OF
    assert [(line.values, line.salla_id, dict(line.links)) for line in record.lines or []] == [
        ({"name": "قميص", "quantity": 2}, None, {}),
        ({"name": "حذاء", "quantity": 1}, None, {}),
    ]


def test_a_webhook_order_with_amounts_and_item_details_maybe_wrapped() -> None:
    order = {
        "id": 77,
        "reference_id": "R-77",
        "status": {"name": "بإنتظار المراجعة", "slug": "under_review"},
        "currency": "SAR",
        "amounts": {"sub_total": {"amount": 100, "currency": "SAR"}, "total": {"amount": 115, "currency": "SAR"}},
        "updated_at": {"date": "2026-11-01 10:00:00.000000", "timezone": "Asia/Riyadh"},
        "items": [
            {
                "id": 771,
                "name": "عطر",
                "sku": "P-1",
                "quantity": 1,
                "amounts": {"price_without_tax": {"amount": 100, "currency": "SAR"}, "total": {"amount": 100}},
                "product": {"id": 1000000001, "price": {"amount": 100}},
            }
        ],
        "customer": None,
    }

    plain = mapping.order_record(order, as_of=AS_OF)
    wrapped = mapping.order_record({"order": order, "status": "ignored"}, as_of=AS_OF)

    assert plain == wrapped
    assert plain.values["total"] == {"amount_minor": 11500, "currency": "SAR"}
    assert plain.values["status"] == "بإنتظار المراجعة"
    assert plain.links == {"customer": None}
    assert plain.updated_at == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    [line] = plain.lines or []
    assert line.salla_id == "771"
    assert dict(line.links) == {"product": "1000000001"}
    assert line.values == {
        "name": "عطر",
        "quantity": 1,
        "sku": "P-1",
        "unit_price": {"amount_minor": 10000, "currency": "SAR"},
        "total": {"amount_minor": 10000, "currency": "SAR"},
    }


def test_a_status_only_order_update_touches_only_the_status() -> None:
    record = mapping.order_record({"id": 5, "status": "ملغي"}, as_of=AS_OF)

    assert record.values == {"status": "ملغي"}
    assert record.lines is None
    assert record.links == {}


def test_a_long_item_summary_is_cut() -> None:
    items = [{"name": f"منتج رقم {n}", "quantity": 1} for n in range(100)]

    summary = mapping.item_summary(items)

    assert summary is not None
    assert len(summary) <= 500
    assert summary.endswith("…")


def test_an_abandoned_cart_becomes_a_deal_for_its_customer() -> None:
    cart = {
        "id": 908070,
        "total": {"amount": 199.9, "currency": "SAR"},
        "updated_at": {"date": "2026-11-27 11:00:00.000000", "timezone": "Asia/Riyadh"},
        "customer": {"id": 201000007, "name": "نورة العتيبي", "mobile": "+966555123456", "email": "n@x.sa"},
    }

    deal = mapping.cart_deal_record(cart, first_stage="new", as_of=AS_OF)
    person = mapping.cart_customer_record(cart)

    assert deal.salla_id == "908070"
    assert deal.values == {
        "name": "Abandoned cart — نورة العتيبي",
        "amount": {"amount_minor": 19990, "currency": "SAR"},
    }
    assert deal.initial == {"stage": "new"}
    assert deal.links == {"point_of_contact": "201000007"}
    assert deal.updated_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert person is not None
    assert person.updated_at is None  # never overwrites the customer's own data
    assert person.values == {"first_name": "نورة", "last_name": "العتيبي", "email": "n@x.sa", "phone": "+966555123456"}
    guest = mapping.cart_deal_record({"id": 1, "total": 10, "customer": {"mobile": "0555123456"}}, first_stage=None)
    assert guest.values["name"] == "Abandoned cart — 0555123456"
    assert guest.links == {}
    assert mapping.cart_customer_record({"id": 1}) is None
