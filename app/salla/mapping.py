"""Salla payloads → CRM values: customers become people, products products, orders (list summaries or full
webhook orders) orders with their items, and abandoned carts deals.

Salla is not strict about shapes (shared reference/salla.md): ids and numbers arrive as numbers or strings, amounts
as ``{amount, currency}`` objects, plain numbers or strings, times as PHP date objects (``{date, timezone}``) or text,
mobiles as numbers with the country code apart. Everything here is tolerant: a field Salla left out is left out of
the values too (so an update with a partial payload leaves the stored value alone), a value that cannot be read
becomes empty, and the engine's field rules (`app.crm.sources`) have the last word (E.164 phones, lower-case
e-mails, minor units).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.crm.fields import CURRENCY_DECIMALS
from app.crm.sources import SourceLine, SourceRecord
from app.salla.events import parse_created_at

__all__ = [
    "UnusablePayload",
    "cart_customer_record",
    "cart_deal_record",
    "customer_record",
    "item_summary",
    "money",
    "order_record",
    "phone_number",
    "product_record",
    "salla_id",
    "salla_time",
]

_RIYADH = timezone(timedelta(hours=3), "Asia/Riyadh")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_PRODUCT_STATUSES = frozenset({"sale", "out", "hidden"})
_SUMMARY_LIMIT = 500
DEFAULT_CURRENCY = "SAR"


class UnusablePayload(ValueError):
    """A payload without the one thing every record needs: Salla's id."""


# --- small readers -----------------------------------------------------------------------------------------------


def salla_id(value: Any) -> str | None:
    """Salla's ids are numbers, sometimes sent as strings ("123", 123, 123.0): one text form for all."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip().translate(_DIGITS)
    return text or None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)  # 104.35 -> "104.35", not its binary expansion
    text = str(value).strip().translate(_DIGITS).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def money(value: Any, currency: Any = None) -> dict[str, Any] | None:
    """``{amount, currency}``, a number or a numeric string → ``{"amount_minor", "currency"}`` (rounded half up to the
    currency's minor unit); None when there is no amount."""
    if isinstance(value, Mapping):
        currency = value.get("currency") or currency
        value = value.get("amount")
    amount = _decimal(value)
    if amount is None:
        return None
    code = (_text(currency) or DEFAULT_CURRENCY).upper()
    places = CURRENCY_DECIMALS.get(code, 2)
    minor = amount.scaleb(places).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return {"amount_minor": int(minor), "currency": code}


def _whole_number(value: Any) -> int | None:
    number = _decimal(value)
    return None if number is None else int(number.to_integral_value(rounding=ROUND_HALF_UP))


def salla_time(value: Any) -> datetime | None:
    """Salla's times: a PHP date object ``{date: "2024-03-10 14:22:05.000000", timezone: "Asia/Riyadh"}``, the same
    text alone (Riyadh time), ISO 8601, a webhook's JavaScript date text, or epoch seconds."""
    if isinstance(value, Mapping):
        zone = _zone(value.get("timezone"))
        moment = _local_time(value.get("date"), zone)
        return None if moment is None else moment.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    moment = _local_time(value, _RIYADH)
    if moment is None:
        moment = parse_created_at(value)
    return None if moment is None else moment.astimezone(UTC)


def _zone(name: Any) -> timezone | ZoneInfo:
    if isinstance(name, str) and name.strip():
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(name.strip())
    return _RIYADH


def _local_time(value: Any, zone: timezone | ZoneInfo) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def phone_number(mobile: Any, code: Any = None) -> str | None:
    """Salla's ``mobile`` (a number or text, with or without a leading 0 or the country code) and ``mobile_code``
    ("+966") as one international number; the engine checks and formats it (E.164)."""
    text = _text(mobile)
    if text is None:
        return None
    text = text.translate(_DIGITS)
    digits = re.sub(r"\D", "", text)
    if not digits:
        return None
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    country = re.sub(r"\D", "", (_text(code) or "").translate(_DIGITS))
    if not country:
        return digits  # a local number: the engine's default region (SA) applies
    if digits.startswith(country) and len(digits) - len(country) >= 8:
        return "+" + digits
    return "+" + country + digits.lstrip("0")


def _required_id(payload: Mapping[str, Any], what: str) -> str:
    found = salla_id(payload.get("id"))
    if found is None:
        raise UnusablePayload(f"a Salla {what} without an id")
    return found


def _given(payload: Mapping[str, Any], *keys: str) -> bool:
    return any(key in payload for key in keys)


# --- customers ---------------------------------------------------------------------------------------------------


def customer_record(payload: Mapping[str, Any], *, as_of: datetime | None = None) -> SourceRecord:
    """A Salla customer as a person. ``as_of`` (when the data was read, or the event's time) stands in for a
    missing ``updated_at``."""
    values: dict[str, Any] = {}
    if _given(payload, "first_name", "last_name"):
        values["first_name"] = _text(payload.get("first_name"))
        values["last_name"] = _text(payload.get("last_name"))
    elif "name" in payload:
        values["first_name"], values["last_name"] = _split_name(_text(payload.get("name")))
    if "email" in payload:
        values["email"] = _text(payload.get("email"))
    if "mobile" in payload:
        values["phone"] = phone_number(payload.get("mobile"), payload.get("mobile_code"))
    if "city" in payload:
        values["city"] = _text(payload.get("city"))
    if _given(payload, "country", "country_code"):
        values["country"] = _text(payload.get("country")) or _text(payload.get("country_code"))
    return SourceRecord(
        salla_id=_required_id(payload, "customer"),
        values=values,
        updated_at=salla_time(payload.get("updated_at")) or as_of,
    )


def _split_name(name: str | None) -> tuple[str | None, str | None]:
    if not name:
        return None, None
    first, _, rest = name.partition(" ")
    return first, rest.strip() or None


# --- products ----------------------------------------------------------------------------------------------------


def product_record(payload: Mapping[str, Any], *, as_of: datetime | None = None) -> SourceRecord:
    """A Salla product. The name is required by the CRM: without one, the SKU or the id stands in."""
    product_id = _required_id(payload, "product")
    values: dict[str, Any] = {}
    values["name"] = _text(payload.get("name")) or _text(payload.get("sku")) or f"#{product_id}"
    if "sku" in payload:
        values["sku"] = _text(payload.get("sku"))
    if "price" in payload:
        values["price"] = money(payload.get("price"), payload.get("currency"))
    status = _text(payload.get("status"))
    if status in _PRODUCT_STATUSES:
        values["status"] = status
    if _given(payload, "quantity", "unlimited_quantity"):
        unlimited = payload.get("unlimited_quantity") in (True, 1, "1", "true")
        values["quantity"] = None if unlimited else _whole_number(payload.get("quantity"))
    if _given(payload, "main_image", "thumbnail", "images", "image"):
        values["image_url"] = _image(payload)
    return SourceRecord(salla_id=product_id, values=values, updated_at=salla_time(payload.get("updated_at")) or as_of)


def _image(payload: Mapping[str, Any]) -> str | None:
    for key in ("main_image", "thumbnail"):
        url = _text(payload.get(key))
        if url:
            return url
    image = payload.get("image")
    if isinstance(image, Mapping):
        return _text(image.get("url") or image.get("original"))
    images = payload.get("images")
    if isinstance(images, list) and images:
        first = images[0]
        if isinstance(first, Mapping):
            return _text(first.get("url") or first.get("original") or first.get("image"))
        return _text(first)
    return _text(image)


# --- orders ------------------------------------------------------------------------------------------------------


def order_record(payload: Mapping[str, Any], *, as_of: datetime | None = None) -> SourceRecord:
    """An order from the list (a summary: items with name and quantity) or from a webhook (the whole order; some
    events wrap it as ``{"order": {...}}``). Its items replace the stored ones; its customer is linked by id."""
    order = _unwrapped_order(payload)
    values: dict[str, Any] = {}
    if "reference_id" in order:
        values["reference"] = _text(order.get("reference_id"))
    if "status" in order:
        values["status"] = _status_name(order.get("status"))
    total = _order_total(order)
    if total is not None:
        values["total"] = total
    if _given(order, "date", "created_at"):
        moment = salla_time(order.get("date")) or salla_time(order.get("created_at"))
        values["ordered_at"] = moment
    lines: list[SourceLine] | None = None
    items = order.get("items")
    if isinstance(items, list):
        readable = [item for item in items if isinstance(item, Mapping)]
        lines = [_line(item, order.get("currency")) for item in readable]
        values["item_count"] = sum(_whole_number(item.get("quantity")) or 0 for item in readable)
        values["item_summary"] = item_summary(readable)
    links: dict[str, str | None] = {}
    if _given(order, "customer", "customer_id"):
        customer = order.get("customer")
        links["customer"] = salla_id(customer.get("id") if isinstance(customer, Mapping) else order.get("customer_id"))
    return SourceRecord(
        salla_id=_required_id(order, "order"),
        values=values,
        updated_at=salla_time(order.get("updated_at")) or as_of,
        links=links,
        lines=lines,
    )


def _unwrapped_order(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = payload.get("order")
    if isinstance(inner, Mapping) and "id" in inner:
        return inner
    return payload


def _status_name(status: Any) -> str | None:
    if isinstance(status, Mapping):
        customized = status.get("customized")
        if isinstance(customized, Mapping) and _text(customized.get("name")):
            return _text(customized.get("name"))
        return _text(status.get("name")) or _text(status.get("slug"))
    return _text(status)


def _order_total(order: Mapping[str, Any]) -> dict[str, Any] | None:
    amounts = order.get("amounts")
    if isinstance(amounts, Mapping) and amounts.get("total") is not None:
        return money(amounts.get("total"), order.get("currency"))
    if order.get("total") is not None:
        return money(order.get("total"), order.get("currency"))
    return None


def _line(item: Mapping[str, Any], currency: Any) -> SourceLine:
    values: dict[str, Any] = {"name": _text(item.get("name")), "quantity": _whole_number(item.get("quantity"))}
    if "sku" in item:
        values["sku"] = _text(item.get("sku"))
    amounts = item.get("amounts")
    item_currency = item.get("currency") or currency
    if isinstance(amounts, Mapping):
        if amounts.get("price_without_tax") is not None:
            values["unit_price"] = money(amounts.get("price_without_tax"), item_currency)
        if amounts.get("total") is not None:
            values["total"] = money(amounts.get("total"), item_currency)
    elif item.get("price") is not None:
        values["unit_price"] = money(item.get("price"), item_currency)
    product = item.get("product")
    links: dict[str, str | None] = {}
    if isinstance(product, Mapping) and salla_id(product.get("id")):
        links["product"] = salla_id(product.get("id"))
    elif "product_id" in item:
        links["product"] = salla_id(item.get("product_id"))
    return SourceLine(values=values, salla_id=salla_id(item.get("id")), links=links)


def item_summary(items: Sequence[Mapping[str, Any]]) -> str | None:
    """``"2 × قميص, 1 × حذاء"``: what an order holds, in one line (cut at a few hundred characters)."""
    parts = []
    for item in items:
        name = _text(item.get("name"))
        if name:
            parts.append(f"{_whole_number(item.get('quantity')) or 1} × {name}")
    summary = ", ".join(parts)
    if len(summary) > _SUMMARY_LIMIT:
        summary = summary[: _SUMMARY_LIMIT - 1].rstrip(", ") + "…"
    return summary or None


# --- abandoned carts ---------------------------------------------------------------------------------------------


def cart_deal_record(
    payload: Mapping[str, Any], *, first_stage: str | None, as_of: datetime | None = None
) -> SourceRecord:
    """An abandoned cart as a deal "Abandoned cart — <customer>" worth the cart's total, for its customer. The stage
    is set only when the deal is created: a merchant who moves it on keeps their stage."""
    cart_id = _required_id(payload, "cart")
    customer = payload.get("customer") if isinstance(payload.get("customer"), Mapping) else {}
    assert isinstance(customer, Mapping)
    who = (
        _text(customer.get("name"))
        or " ".join(part for part in (_text(customer.get("first_name")), _text(customer.get("last_name"))) if part)
        or phone_number(customer.get("mobile"), customer.get("mobile_code"))
        or _text(customer.get("email"))
        or f"#{cart_id}"
    )
    values: dict[str, Any] = {"name": f"Abandoned cart — {who}"}
    total = money(payload.get("total"), payload.get("currency"))
    if total is None:
        total = money(payload.get("sub_total") or payload.get("subtotal"), payload.get("currency"))
    if total is not None:
        values["amount"] = total
    customer_id = salla_id(customer.get("id"))
    return SourceRecord(
        salla_id=cart_id,
        values=values,
        updated_at=salla_time(payload.get("updated_at")) or as_of,
        links={"point_of_contact": customer_id} if customer_id else {},
        initial={"stage": first_stage} if first_stage else {},
    )


def cart_customer_record(payload: Mapping[str, Any]) -> SourceRecord | None:
    """The cart's customer as a person, without a source time: it fills in a customer the CRM does not know yet,
    and never overwrites one synced from Salla's customer data (which always has a time)."""
    customer = payload.get("customer")
    if not isinstance(customer, Mapping) or salla_id(customer.get("id")) is None:
        return None
    record = customer_record(customer)
    return SourceRecord(salla_id=record.salla_id, values=record.values, updated_at=None)
