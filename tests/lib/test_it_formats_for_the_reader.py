"""Numbers, money and dates as an Arabic or an English reader writes them; messages in the reader's language."""

from __future__ import annotations

import datetime as dt

from app.lib.i18n import (
    current_language,
    format_date,
    format_datetime,
    format_money,
    format_number,
    gettext,
    use_language,
)


def test_it_writes_riyals_from_halalas() -> None:
    assert format_money(123450, "SAR", "en") == "SAR1,234.50"
    arabic = format_money(123450, "SAR", "ar")
    assert "1,234.50" in arabic or "١٬٢٣٤٫٥٠" in arabic
    assert "ر.س" in arabic


def test_it_respects_the_currency_minor_units() -> None:
    assert format_money(1500, "KWD", "en") == "KWD1.500"  # three decimals
    assert format_money(None, "SAR", "en") == ""


def test_it_groups_thousands_and_fixes_decimals() -> None:
    assert format_number(1234567, "en") == "1,234,567"
    assert format_number(2.5, "en", decimals=2) == "2.50"
    assert format_number(None, "en") == ""


def test_it_writes_dates_in_the_readers_language() -> None:
    assert format_date(dt.date(2026, 11, 27), "en") == "Nov 27, 2026"
    assert "2026" in format_date("2026-11-27", "ar")
    assert format_date(dt.date(2026, 11, 27), "ar") != format_date(dt.date(2026, 11, 27), "en")


def test_it_shows_times_in_the_workspace_time_zone() -> None:
    moment = dt.datetime(2026, 11, 27, 21, 30, tzinfo=dt.UTC)
    assert "Nov 28, 2026" in format_datetime(moment, "en", timezone="Asia/Riyadh")  # 00:30 the next day
    assert "Nov 27, 2026" in format_datetime(moment, "en", timezone="UTC")
    assert format_datetime("2026-11-27T21:30:00Z", "en", timezone="Nowhere/Atlantis")  # unknown zone: Riyadh


def test_it_translates_in_the_active_language_only() -> None:
    assert current_language() == "en"
    assert gettext("Page not found") == "Page not found"
    with use_language("ar"):
        assert gettext("Page not found") == "الصفحة غير موجودة"
        assert gettext("A message nobody translated") == "A message nobody translated"
    assert gettext("Page not found") == "Page not found"


def test_it_ignores_languages_it_does_not_speak() -> None:
    with use_language("fr"):
        assert current_language() == "en"
