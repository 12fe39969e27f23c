"""A generated Salla store: customers, products and orders made on demand from a seed, plus the changes a test
made to them.

Nothing is generated up front: record ``i`` of a kind is computed from ``(seed, kind, i)`` whenever it is asked
for, so a store of 10k customers, 2k products and 20k orders costs a few hundred bytes until someone reads it, and
reads the same every time. Records a test creates, changes or deletes are kept as overrides.

Payloads follow Salla's Admin API v2 (see shared/reference/salla.md, "Payload notes"): ids are numbers, money is
``{amount, currency}``, customer and order times are PHP date objects ``{date, timezone_type, timezone}`` while a
product's ``updated_at`` is a plain ``"YYYY-mm-dd HH:MM:SS"`` string, a customer's ``mobile`` is a string of the
national number (webhooks send it as a number: `webhook_form`). Lists are newest first (highest id first).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from app.salla.sandbox.formats import RIYADH, Rng, amount, local_text, money, salla_date
from app.salla.sandbox.words import (
    CATEGORIES,
    CITIES,
    DISTRICTS,
    EMAIL_DOMAINS,
    FAMILY_NAMES,
    FEMALE_NAMES,
    MALE_NAMES,
    MOBILE_PREFIXES,
    ORDER_STATUSES,
    PAYMENT_METHODS,
    PRODUCT_VARIANTS,
    PRODUCTS,
    SHIPPING_COMPANIES,
    STATUS_WEIGHTS,
    OrderStatus,
)

__all__ = ["DEFAULT_ANCHOR", "Collection", "StoreData", "status_by_slug", "webhook_form"]

DEFAULT_ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=RIYADH).timestamp()
"""The moment a generated store's history ends, unless another is given: a fixed date keeps stores deterministic."""

_CUSTOMER, _PRODUCT, _ORDER, _IDS = 1, 2, 3, 4
_TAX_PERCENT = 15
_FINAL_STATUSES = {"completed", "delivered", "canceled", "restored"}
_CANCELLABLE = {"payment_pending", "under_review"}
_AVATARS = {
    "male": "https://cdn.assets.salla.network/prod/admin/cp/assets/images/avatar_male.png",
    "female": "https://cdn.assets.salla.network/prod/admin/cp/assets/images/avatar_female.png",
}
_CUSTOMER_GROUPS = (2113405, 2113406, 2113407)
_CATEGORY_NAMES = dict(CATEGORIES)


def status_by_slug(slug: str) -> OrderStatus:
    for status in ORDER_STATUSES:
        if status.slug == slug:
            return status
    raise ValueError(f"unknown order status {slug!r}; one of: {', '.join(s.slug for s in ORDER_STATUSES)}")


def webhook_form(payload: dict[str, Any]) -> dict[str, Any]:
    """The same record as a webhook carries it: a customer's ``mobile`` (also inside an order) is a number."""
    shaped = copy.deepcopy(payload)
    for holder in (shaped, shaped.get("customer")):
        if isinstance(holder, dict) and isinstance(holder.get("mobile"), str) and holder["mobile"].isdigit():
            holder["mobile"] = int(holder["mobile"])
    return shaped


@dataclass
class Collection:
    """The ids of one kind of record: ``generated`` made from the seed, then the ones created later, minus the
    deleted; ``overrides`` hold the current payload of every created or changed record."""

    base_id: int
    generated: int
    overrides: dict[int, dict[str, Any]] = field(default_factory=dict)
    created: list[int] = field(default_factory=list)
    deleted: set[int] = field(default_factory=set)

    def index_of(self, record_id: int) -> int | None:
        """The generator index of a live record, or None when there is no such record."""
        index = record_id - self.base_id
        if record_id in self.deleted or index < 0:
            return None
        if index < self.generated or record_id in self.overrides:
            return index
        return None

    def count(self) -> int:
        return self.generated + len(self.created) - len(self.deleted)

    def newest_first(self) -> Iterator[int]:
        for record_id in reversed(self.created):
            if record_id not in self.deleted:
                yield record_id
        for index in range(self.generated - 1, -1, -1):
            record_id = self.base_id + index
            if record_id not in self.deleted:
                yield record_id

    def window(self, offset: int, limit: int) -> list[int]:
        if self.deleted:
            return list(islice(self.newest_first(), offset, offset + limit))
        # Without deletions a page is arithmetic: no need to walk past the ``offset`` records before it.
        page = self.created[::-1][offset : offset + limit]
        top = self.generated - 1 - max(0, offset - len(self.created))
        bottom = max(top - (limit - len(page)), -1)
        return page + [self.base_id + index for index in range(top, bottom, -1)]

    def new_id(self) -> int:
        record_id = self.base_id + self.generated + len(self.created)
        self.created.append(record_id)
        return record_id


@dataclass(frozen=True)
class _OrderBasics:
    created: float
    customer_index: int
    status: OrderStatus


@dataclass(frozen=True)
class _OrderDraft:
    order_id: int
    reference_id: int
    basics: _OrderBasics
    lines: tuple[tuple[int, int], ...]
    """(product index, quantity) per line."""
    payment_method: str
    sub_total: int
    discount: int
    shipping: int
    cash_on_delivery: int
    updated: float
    token: str
    device: str
    company: str


class StoreData:
    """One store's generated records and the changes made to them. Not thread-safe: the sandbox locks."""

    def __init__(
        self,
        *,
        merchant_id: int,
        username: str,
        name: str,
        seed: int,
        customers: int,
        products: int,
        orders: int,
        anchor: float = DEFAULT_ANCHOR,
        history_days: int = 365,
    ) -> None:
        if min(customers, products, orders) < 0:
            raise ValueError("record counts cannot be negative")
        if orders and not (customers and products):
            raise ValueError("a store with orders needs at least one customer and one product")
        self.merchant_id = merchant_id
        self.username = username
        self.name = name
        self.seed = seed
        self.anchor = anchor
        self.history_seconds = history_days * 86_400
        ids = Rng(seed, merchant_id, _IDS)
        self.customers = Collection(base_id=200_000_000 + ids.below(700) * 1_000_000, generated=customers)
        self.products = Collection(base_id=1_000_000_000 + ids.below(500) * 1_000_000, generated=products)
        self.orders = Collection(base_id=1_500_000_000 + ids.below(500) * 1_000_000, generated=orders)
        self._reference_base = 10_000_000 + ids.below(80) * 1_000_000
        self._mobile_offset = ids.below(10_000_000)
        self._image_folder = f"{ids.next() & 0xFFFFFFFF:08x}"
        self._coupon = f"{username.split('-')[0].upper()[:6] or 'SALLA'}10"
        self._sold_facts: dict[int, dict[str, Any]] = {}

    # ---- customers -------------------------------------------------------------------------------------------

    def customer(self, customer_id: int) -> dict[str, Any] | None:
        index = self.customers.index_of(customer_id)
        if index is None:
            return None
        stored = self.customers.overrides.get(customer_id)
        return copy.deepcopy(stored) if stored is not None else self._generate_customer(index)

    def _generate_customer(self, index: int) -> dict[str, Any]:
        core, rng = self._customer_core(index)
        birthday = None
        if rng.chance(0.6):
            born = datetime(rng.between(1965, 2005), rng.between(1, 12), rng.between(1, 28), tzinfo=RIYADH)
            birthday = salla_date(born.timestamp())
        customer_id = core["id"]
        return {
            "id": customer_id,
            "first_name": core["first_name"],
            "last_name": core["last_name"],
            "mobile": core["mobile"],
            "mobile_code": "+966",
            "email": core["email"],
            "urls": {
                "customer": f"https://salla.sa/{self.username}/profile",
                "admin": f"https://s.salla.sa/customers/{customer_id}",
            },
            "avatar": core["avatar"],
            "gender": core["gender"],
            "birthday": birthday,
            "city": core["city"],
            "country": "السعودية",
            "country_code": "SA",
            "currency": "SAR",
            "location": rng.pick(DISTRICTS),
            "updated_at": salla_date(self._moment(rng.unit())),
            "groups": [rng.pick(_CUSTOMER_GROUPS)] if rng.chance(0.15) else [],
        }

    def _customer_core(self, index: int) -> tuple[dict[str, Any], Rng]:
        """The fields an order summary shows, drawn first so a summary can stop there; and the stream, to go on."""
        rng = Rng(self.seed, _CUSTOMER, index)
        gender = "female" if rng.chance(0.45) else "male"
        first_ar, first_en = rng.pick(FEMALE_NAMES if gender == "female" else MALE_NAMES)
        last_ar, last_en = rng.pick(FAMILY_NAMES)
        latin = rng.chance(0.35)
        # The national number's last seven digits are a bijection of the index: no two customers share a mobile.
        mobile = rng.pick(MOBILE_PREFIXES) + f"{(index * 7_919 + self._mobile_offset) % 10_000_000:07d}"
        email = "" if rng.chance(0.08) else self._email(rng, first_en, last_en, index)
        core = {
            "id": self.customers.base_id + index,
            "first_name": first_en if latin else first_ar,
            "last_name": last_en if latin else last_ar,
            "mobile": mobile,
            "email": email,
            "avatar": _AVATARS[gender],
            "gender": gender,
            "city": rng.pick(CITIES),
        }
        return core, rng

    @staticmethod
    def _email(rng: Rng, first: str, last: str, index: int) -> str:
        number = index + 11  # unique per customer, so e-mails never collide
        local = rng.pick(
            (f"{first}.{last}{number}", f"{first}_{number}", f"{first}{last[:3]}{number}", f"{last}.{first[0]}{number}")
        )
        return f"{local.lower()}@{rng.pick(EMAIL_DOMAINS)}"

    # ---- products --------------------------------------------------------------------------------------------

    def product(self, product_id: int) -> dict[str, Any] | None:
        index = self.products.index_of(product_id)
        if index is None:
            return None
        stored = self.products.overrides.get(product_id)
        return copy.deepcopy(stored) if stored is not None else self._generate_product(index)

    def _generate_product(self, index: int) -> dict[str, Any]:
        rng = Rng(self.seed, _PRODUCT, index)
        base_name, category_id, low, high, variant_kind = PRODUCTS[index % len(PRODUCTS)]
        variants = PRODUCT_VARIANTS[variant_kind]
        variant = variants[(index // len(PRODUCTS)) % len(variants)]
        edition = index // (len(PRODUCTS) * len(variants))
        name = f"{base_name} {variant}" + (f" - {edition + 1}" if edition else "")
        price = rng.between(low // 100, high // 100) * 100 - (1 if rng.chance(0.25) else 0)
        sale = (price * rng.between(70, 90) // 100 // 100) * 100 if rng.chance(0.2) else 0
        roll = rng.unit()
        status = "hidden" if roll < 0.03 else "out" if roll < 0.1 else "sale"
        unlimited = status == "sale" and rng.chance(0.1)
        quantity: int | str | None = None if unlimited else (0 if status == "out" else rng.between(1, 250))
        if isinstance(quantity, int) and quantity and rng.chance(0.05):
            quantity = str(quantity)  # Salla sometimes sends the quantity as a string
        kind = rng.pick(("product",) * 18 + ("service", "digital"))
        product_id = self.products.base_id + index
        picture = f"{rng.next() & 0xFFFFFFFFFFFF:012x}"
        image = f"https://cdn.salla.sa/{self._image_folder}/{picture}.jpg"
        thumbnail = f"https://cdn.salla.sa/{self._image_folder}/{picture}-500x500.jpg"
        category = _CATEGORY_NAMES[category_id]
        url = f"https://salla.sa/{self.username}/p{product_id}"
        tax = price * _TAX_PERCENT // 100
        return {
            "id": product_id,
            "promotion": {"title": None, "sub_title": None},
            "sku": f"{category_id % 100:02d}-{index + 1001}",
            "type": kind,
            "name": name,
            "short_link_code": f"{product_id:x}",
            "urls": {"customer": url, "admin": f"https://s.salla.sa/products/{product_id}"},
            "price": money(price),
            "taxed_price": money(price + tax),
            "pre_tax_price": money(price),
            "tax": money(tax),
            "description": f"<p>{name}</p>",
            "quantity": quantity,
            "unlimited_quantity": unlimited,
            "status": status,
            "is_available": status == "sale",
            "views": rng.between(0, 5_000),
            "sale_price": money(sale),
            "sale_end": None,
            "regular_price": money(price),
            "cost_price": f"{price * 55 // 100 / 100:.2f}",
            "require_shipping": kind == "product",
            "weight": round(rng.between(1, 30) / 10, 1),
            "with_tax": True,
            "url": url,
            "main_image": image,
            "thumbnail": thumbnail,
            "images": [
                {
                    "id": product_id * 10 + 1,
                    "url": image,
                    "main": True,
                    "three_d_image_url": "",
                    "alt": name,
                    "video_url": "",
                    "type": "image",
                    "sort": 1,
                }
            ],
            "sold_quantity": rng.between(0, 900),
            "rating": {"total": 0, "count": 0, "rate": 0},
            "categories": [{"id": category_id, "name": category, "urls": {}}],
            "brand": None,
            "tags": [],
            "options": [],
            "skus": [],
            "updated_at": local_text(self._moment(rng.unit())),
        }

    @staticmethod
    def light_product(product: dict[str, Any]) -> dict[str, Any]:
        """``GET /products?format=light``: the fields a picker needs."""
        keys = ("id", "name", "sku", "type", "status", "is_available", "price", "sale_price", "quantity", "thumbnail")
        return {key: product[key] for key in keys}

    # ---- orders ----------------------------------------------------------------------------------------------

    def order(self, order_id: int) -> dict[str, Any] | None:
        index = self.orders.index_of(order_id)
        if index is None:
            return None
        stored = self.orders.overrides.get(order_id)
        return copy.deepcopy(stored) if stored is not None else self._generate_order(index)

    def order_summary(self, order_id: int) -> dict[str, Any] | None:
        index = self.orders.index_of(order_id)
        if index is None:
            return None
        stored = self.orders.overrides.get(order_id)
        return summarize_order(copy.deepcopy(stored)) if stored is not None else self._generate_summary(index)

    def order_created(self, order_id: int) -> float | None:
        """When an order was placed (cheap for generated orders: the list filters use it)."""
        stored = self.orders.overrides.get(order_id)
        if stored is not None:
            return _date_moment(stored["date"])
        index = self.orders.index_of(order_id)
        return None if index is None else self._order_basics(index, Rng(self.seed, _ORDER, index)).created

    def order_customer_id(self, order_id: int) -> int | None:
        stored = self.orders.overrides.get(order_id)
        if stored is not None:
            return int(stored["customer"]["id"])
        index = self.orders.index_of(order_id)
        if index is None:
            return None
        return self.customers.base_id + self._order_basics(index, Rng(self.seed, _ORDER, index)).customer_index

    def order_status_keys(self, order_id: int) -> tuple[str, str]:
        """An order's status as the ``status`` filter may name it: (id, slug)."""
        stored = self.orders.overrides.get(order_id)
        if stored is not None:
            return str(stored["status"]["id"]), str(stored["status"]["slug"])
        index = self.orders.index_of(order_id)
        if index is None:
            return "", ""
        status = self._order_basics(index, Rng(self.seed, _ORDER, index)).status
        return str(status.id), status.slug

    def _order_basics(self, index: int, rng: Rng) -> _OrderBasics:
        step = self.history_seconds / max(self.orders.generated, 1)
        created = self.anchor - self.history_seconds + (index + rng.unit()) * step
        customer_index = rng.below(self.customers.generated)
        status = ORDER_STATUSES[rng.weighted(STATUS_WEIGHTS)]
        if created < self.anchor - 14 * 86_400 and status.slug not in _FINAL_STATUSES:
            status = status_by_slug("completed")  # old orders are finished one way or another
        return _OrderBasics(created=created, customer_index=customer_index, status=status)

    def _draft(self, index: int) -> _OrderDraft:
        """Every random choice of a generated order, in a fixed order of draws."""
        rng = Rng(self.seed, _ORDER, index)
        basics = self._order_basics(index, rng)
        count = rng.pick((1, 1, 1, 2, 2, 3, 4))
        chosen: list[int] = []
        while len(chosen) < min(count, self.products.generated):
            product_index = rng.below(self.products.generated)
            if product_index not in chosen:
                chosen.append(product_index)
        lines = tuple((product_index, rng.pick((1, 1, 1, 2, 3))) for product_index in chosen)
        payment_method = rng.pick(PAYMENT_METHODS)
        sub_total = sum(self._sold(product_index)["unit"] * quantity for product_index, quantity in lines)
        discount = sub_total // 10 if rng.chance(0.12) else 0
        shipping = 0 if sub_total >= 30_000 else rng.pick((2_500, 3_000, 3_500))
        updated = min(basics.created + rng.between(600, 5 * 86_400), max(self.anchor, basics.created))
        return _OrderDraft(
            order_id=self.orders.base_id + index,
            reference_id=self._reference_base + index,
            basics=basics,
            lines=lines,
            payment_method=payment_method,
            sub_total=sub_total,
            discount=discount,
            shipping=shipping,
            cash_on_delivery=1_000 if payment_method == "cod" else 0,
            updated=updated,
            token=f"{rng.next():016x}",
            device=rng.pick(("mobile", "mobile", "desktop")),
            company=rng.pick(SHIPPING_COMPANIES),
        )

    def _generate_order(self, index: int) -> dict[str, Any]:
        draft = self._draft(index)
        customer_id = self.customers.base_id + draft.basics.customer_index
        customer = self.customer(customer_id) or self._generate_customer(draft.basics.customer_index)
        status = draft.basics.status
        return {
            "id": draft.order_id,
            "reference_id": draft.reference_id,
            "urls": {
                "customer": f"https://salla.sa/{self.username}/order/{draft.token}",
                "admin": f"https://s.salla.sa/orders/order/{draft.token}",
            },
            "date": salla_date(draft.basics.created),
            "updated_at": salla_date(draft.updated),
            "source": "store",
            "source_device": draft.device,
            "status": _status_object(status),
            "is_price_quote": False,
            "payment_method": draft.payment_method,
            "currency": "SAR",
            "amounts": _order_amounts(draft, self._coupon),
            "shipping": _shipping(draft.company, customer),
            "can_cancel": status.slug in _CANCELLABLE,
            "can_reorder": True,
            "customer": _order_customer(customer),
            "items": [
                _order_line(draft.order_id * 10 + position + 1, self._sold(product_index), quantity)
                for position, (product_index, quantity) in enumerate(draft.lines)
            ],
            "tags": [],
        }

    def _generate_summary(self, index: int) -> dict[str, Any]:
        """What `summarize_order` makes of `_generate_order`, without building the full order (lists are hot)."""
        draft = self._draft(index)
        status = draft.basics.status
        customer_id = self.customers.base_id + draft.basics.customer_index
        stored = None if customer_id in self.customers.deleted else self.customers.overrides.get(customer_id)
        customer = stored if stored is not None else self._customer_core(draft.basics.customer_index)[0]
        return {
            "id": draft.order_id,
            "reference_id": draft.reference_id,
            "total": money(_order_total(draft)),
            "date": salla_date(draft.basics.created),
            "status": _status_object(status),
            "can_cancel": status.slug in _CANCELLABLE,
            "can_reorder": True,
            "is_pending_payment": status.slug == "payment_pending",
            "pending_payment_ends_at": 0,
            "payment_method": draft.payment_method,
            "items": [
                {"name": facts["name"], "quantity": quantity, "thumbnail": facts["thumbnail"]}
                for facts, quantity in ((self._sold(i), q) for i, q in draft.lines)
            ],
            "customer": _summary_customer(customer),
        }

    def _sold(self, index: int) -> dict[str, Any]:
        """What an order line copies from a generated product, as it was when generated (an order keeps the
        price it was sold at). Kept per product: every order line needs it and the catalogue is small."""
        facts = self._sold_facts.get(index)
        if facts is None:
            product = self._generate_product(index)
            keys = ("id", "type", "name", "sku", "price", "sale_price", "weight", "thumbnail", "url")
            facts = self._sold_facts[index] = {key: product[key] for key in keys}
            facts["unit"] = _minor(product["sale_price"]["amount"]) or _minor(product["price"]["amount"])
        return facts

    # ---- changes ---------------------------------------------------------------------------------------------

    def create_customer(self, now: float, fields: dict[str, Any]) -> dict[str, Any]:
        customer_id = self.customers.new_id()
        payload = self._generate_customer(customer_id - self.customers.base_id)
        return self._store(self.customers, payload, fields, salla_date(now))

    def update_customer(self, customer_id: int, now: float, fields: dict[str, Any]) -> dict[str, Any]:
        current = self._existing(self.customer(customer_id), "customer", customer_id)
        return self._store(self.customers, current, fields, salla_date(_advance(current["updated_at"], now)))

    def delete_customer(self, customer_id: int) -> dict[str, Any]:
        current = self._existing(self.customer(customer_id), "customer", customer_id)
        self.customers.deleted.add(customer_id)
        return current

    def create_product(self, now: float, fields: dict[str, Any]) -> dict[str, Any]:
        product_id = self.products.new_id()
        payload = self._generate_product(product_id - self.products.base_id)
        return self._store(self.products, payload, fields, local_text(now))

    def update_product(self, product_id: int, now: float, fields: dict[str, Any]) -> dict[str, Any]:
        current = self._existing(self.product(product_id), "product", product_id)
        return self._store(self.products, current, fields, local_text(_advance(current["updated_at"], now)))

    def delete_product(self, product_id: int) -> dict[str, Any]:
        current = self._existing(self.product(product_id), "product", product_id)
        self.products.deleted.add(product_id)
        return current

    def create_order(
        self, now: float, *, customer_id: int | None, status: str | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        if not (self.customers.generated and self.products.generated):
            raise ValueError("a store needs generated customers and products before it can take orders")
        order_id = self.orders.new_id()
        payload = self._generate_order(order_id - self.orders.base_id)
        payload["date"] = salla_date(now)
        if customer_id is not None:
            customer = self._existing(self.customer(customer_id), "customer", customer_id)
            payload["customer"] = _order_customer(customer)
            payload["shipping"] = _shipping(payload["shipping"]["company"], customer)
        payload["status"] = _status_object(status_by_slug(status or "under_review"))
        return self._store(self.orders, payload, fields, salla_date(now))

    def update_order(self, order_id: int, now: float, *, status: str | None, fields: dict[str, Any]) -> dict[str, Any]:
        current = self._existing(self.order(order_id), "order", order_id)
        if status is not None:
            current["status"] = _status_object(status_by_slug(status))
        return self._store(self.orders, current, fields, salla_date(_advance(current["updated_at"], now)))

    def delete_order(self, order_id: int) -> dict[str, Any]:
        current = self._existing(self.order(order_id), "order", order_id)
        self.orders.deleted.add(order_id)
        return current

    @staticmethod
    def _existing(payload: dict[str, Any] | None, kind: str, record_id: int) -> dict[str, Any]:
        if payload is None:
            raise KeyError(f"no {kind} {record_id} in this store")
        return payload

    @staticmethod
    def _store(
        collection: Collection, payload: dict[str, Any], fields: dict[str, Any], updated_at: Any
    ) -> dict[str, Any]:
        unknown = sorted(set(fields) - set(payload))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(payload))}")
        if "id" in fields and fields["id"] != payload["id"]:
            raise ValueError("a record's id cannot change")
        payload.update(copy.deepcopy(fields))
        payload["updated_at"] = updated_at
        collection.overrides[payload["id"]] = payload
        return copy.deepcopy(payload)

    # ---- helpers ---------------------------------------------------------------------------------------------

    def _moment(self, fraction: float) -> float:
        """A moment within the store's history."""
        return self.anchor - self.history_seconds * (1 - fraction)

    def customer_matches(self, customer: dict[str, Any], keyword: str) -> bool:
        needle = keyword.strip().lower()
        haystack = (customer["first_name"], customer["last_name"], customer["email"], str(customer["mobile"]))
        full = f"{customer['first_name']} {customer['last_name']}".lower()
        return needle in full or any(needle in str(value).lower() for value in haystack)

    def ids_where(self, collection: Collection, keep: Callable[[int], bool]) -> list[int]:
        return [record_id for record_id in collection.newest_first() if keep(record_id)]


def summarize_order(order: dict[str, Any]) -> dict[str, Any]:
    """What ``GET /orders`` lists for an order: no amounts breakdown, no item details."""
    customer = order["customer"]
    return {
        "id": order["id"],
        "reference_id": order["reference_id"],
        "total": order["amounts"]["total"],
        "date": order["date"],
        "status": order["status"],
        "can_cancel": order["can_cancel"],
        "can_reorder": order["can_reorder"],
        "is_pending_payment": order["status"]["slug"] == "payment_pending",
        "pending_payment_ends_at": 0,
        "payment_method": order["payment_method"],
        "items": [
            {"name": item["name"], "quantity": item["quantity"], "thumbnail": item["product"]["thumbnail"]}
            for item in order["items"]
        ],
        "customer": _summary_customer(customer),
    }


def _summary_customer(customer: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": customer["id"],
        "full_name": f"{customer['first_name']} {customer['last_name']}",
        "first_name": customer["first_name"],
        "last_name": customer["last_name"],
        "mobile": customer["mobile"],
        "mobile_code": "+966",
        "email": customer["email"],
        "avatar": customer["avatar"],
        "city": customer["city"],
        "country": "السعودية",
    }


def _status_object(status: OrderStatus) -> dict[str, Any]:
    return {
        "id": status.id,
        "name": status.name,
        "slug": status.slug,
        "customized": {"id": status.id, "name": status.name},
    }


def _order_customer(customer: dict[str, Any]) -> dict[str, Any]:
    return {"id": customer["id"], "full_name": f"{customer['first_name']} {customer['last_name']}"} | {
        key: value for key, value in customer.items() if key != "id"
    }


def _order_line(item_id: int, product: dict[str, Any], quantity: int) -> dict[str, Any]:
    unit = product["unit"]
    line_total = unit * quantity
    return {
        "id": item_id,
        "name": product["name"],
        "sku": product["sku"],
        "quantity": quantity,
        "currency": "SAR",
        "weight": product["weight"],
        "amounts": {
            "price_without_tax": money(unit),
            "total_discount": money(0),
            "tax": {"percent": f"{_TAX_PERCENT:.2f}", "amount": money(line_total * _TAX_PERCENT // 100)},
            "total": money(line_total),
        },
        "notes": "",
        "options": [],
        "images": [],
        "codes": [],
        "files": [],
        "product": {
            "id": product["id"],
            "type": product["type"],
            "name": product["name"],
            "sku": product["sku"],
            "price": money(unit),
            "thumbnail": product["thumbnail"],
            "url": product["url"],
        },
        "product_thumbnail": product["thumbnail"],
    }


def _order_tax(draft: _OrderDraft) -> int:
    return (draft.sub_total - draft.discount + draft.shipping + draft.cash_on_delivery) * _TAX_PERCENT // 100


def _order_total(draft: _OrderDraft) -> int:
    return draft.sub_total - draft.discount + draft.shipping + draft.cash_on_delivery + _order_tax(draft)


def _order_amounts(draft: _OrderDraft, coupon: str) -> dict[str, Any]:
    discounts = []
    if draft.discount:
        discounts.append(
            {
                "title": "خصم الكوبون",
                "type": "coupon",
                "code": coupon,
                "discount": amount(draft.discount),
                "currency": "SAR",
            }
        )
    return {
        "sub_total": money(draft.sub_total),
        "shipping_cost": money(draft.shipping),
        "apply_shipping_cost_to_customer": True,
        "cash_on_delivery": money(draft.cash_on_delivery),
        "tax": {"percent": f"{_TAX_PERCENT:.2f}", "amount": money(_order_tax(draft))},
        "discounts": discounts,
        "total": money(_order_total(draft)),
    }


def _shipping(company: str, customer: dict[str, Any]) -> dict[str, Any]:
    return {
        "company": company,
        "receiver": {
            "name": f"{customer['first_name']} {customer['last_name']}",
            "phone": f"{customer['mobile_code']}{customer['mobile']}",
            "email": customer["email"],
        },
        "address": {
            "country": customer["country"],
            "city": customer["city"],
            "block": customer["location"],
            "shipping_address": f"{customer['location']}، {customer['city']}",
        },
    }


def _minor(value: int | float) -> int:
    return round(value * 100)


def _date_moment(value: dict[str, Any]) -> float:
    return datetime.strptime(value["date"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=RIYADH).timestamp()


def _advance(previous: Any, now: float) -> float:
    """A changed record's new ``updated_at``: now, but always later than before, even under a frozen test clock."""
    if isinstance(previous, dict):
        before = _date_moment(previous)
    else:
        before = datetime.strptime(str(previous), "%Y-%m-%d %H:%M:%S").replace(tzinfo=RIYADH).timestamp()
    return max(float(int(now)), before + 1)
