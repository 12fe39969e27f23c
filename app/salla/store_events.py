"""The store's data events: customers, products, orders and abandoned carts, applied to the merchant's CRM.

Each event's data is the record as Salla has it now (a customer, a product, an order; some order events wrap it as
``{"order": {...}}``). It is mapped (`app.salla.mapping`) and written through the CRM engine's source service
(`app.crm.sources`), with one timeline entry per created or changed record. Out of order and repeated deliveries
are harmless: a record changes only for data at least as new as what it holds (the payload's ``updated_at``, else
the event's ``created_at``), and every write is keyed by Salla's id.

Which CRM: the store (``salla_stores`` by the envelope's merchant) → its tenant. When there is none yet (the
install is still being applied, the CRM is being prepared, or it is suspended) the handler raises `StoreNotReady`
and the inbox retries the delivery later. When the store was uninstalled, or its CRM is being deleted, the event
is skipped (logged, nothing written): that data is on its way out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from app.crm import sources
from app.crm.fields import FieldType
from app.crm.metadata import Catalogue
from app.crm.services import catalogue_of, crm_connection
from app.salla import mapping, store_repository
from app.salla.events import EventContext, EventRejected, WebhookEvent, on
from app.tenancy.repository import TenantRecord
from app.tenancy.services import tenant_by_id

__all__ = [
    "CUSTOMER_EVENTS",
    "ORDER_DELETE_EVENTS",
    "ORDER_EVENTS",
    "PRODUCT_DELETE_EVENTS",
    "PRODUCT_EVENTS",
    "StoreNotReady",
    "abandoned_cart",
    "customer_changed",
    "order_changed",
    "order_deleted",
    "product_changed",
    "product_deleted",
]

log = structlog.get_logger("wosool.salla.store_events")

CUSTOMER_EVENTS = ("customer.created", "customer.updated")
PRODUCT_EVENTS = ("product.created", "product.updated", "product.available", "product.quantity.low")
PRODUCT_DELETE_EVENTS = ("product.deleted",)
ORDER_EVENTS = (
    "order.created",
    "order.updated",
    "order.status.updated",
    "order.cancelled",
    "order.refunded",
    "order.payment.updated",
    "order.products.updated",
    "order.total.price.updated",
)
ORDER_DELETE_EVENTS = ("order.deleted",)
_GONE_TENANT_STATUSES = ("deleting", "deleted")


class StoreNotReady(RuntimeError):
    """The store has no usable CRM yet: the delivery stays pending and the inbox tries it again later."""


async def _crm_tenant(event: WebhookEvent) -> TenantRecord | None:
    """The tenant whose CRM the event belongs to; None when the event is to be skipped (see the module doc)."""
    if event.merchant_id is None:
        raise EventRejected(f"{event.event} without a merchant id")
    store = await store_repository.store_by_merchant(event.merchant_id)
    if store is None:
        raise StoreNotReady(f"Salla store {event.merchant_id} is not known yet (its install may still be on its way)")
    if store.status == "uninstalled":
        log.info("salla event for an uninstalled store skipped", salla_event=event.event, merchant=event.merchant_id)
        return None
    tenant = await tenant_by_id(store.tenant_id) if store.tenant_id else None
    if tenant is not None and tenant.status in _GONE_TENANT_STATUSES:
        log.info("salla event for a CRM being deleted skipped", salla_event=event.event, merchant=event.merchant_id)
        return None
    if tenant is None or tenant.status != "active":
        state = "none yet" if tenant is None else tenant.status
        raise StoreNotReady(f"Salla store {event.merchant_id} has no active CRM ({state})")
    return tenant


def _as_of(event: WebhookEvent) -> datetime:
    """The data's time when the payload has no ``updated_at`` of its own: when Salla sent the event."""
    return event.created_at or datetime.now(UTC)


def _data(event: WebhookEvent) -> Mapping[str, Any]:
    if not isinstance(event.data, Mapping):
        raise EventRejected(f"{event.event} without a data object")
    return event.data


async def _upsert(
    event: WebhookEvent, context: EventContext, object_name: str, records: list[sources.SourceRecord]
) -> None:
    tenant = await _crm_tenant(event)
    if tenant is None:
        return
    async with crm_connection(tenant, context.settings) as connection:
        catalogue = await catalogue_of(connection, tenant)
        outcome = await sources.upsert_records(connection, catalogue, object_name, records, timeline=True)
    log.info(
        "salla event applied",
        salla_event=event.event,
        tenant=tenant.slug,
        created=outcome.created,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
        dropped=outcome.dropped,
    )


def _mapped(event: WebhookEvent, build: Any, payload: Mapping[str, Any]) -> sources.SourceRecord:
    try:
        record: sources.SourceRecord = build(payload, as_of=_as_of(event))
    except mapping.UnusablePayload as problem:
        raise EventRejected(f"{event.event}: {problem}") from None
    return record


@on(*CUSTOMER_EVENTS)
async def customer_changed(event: WebhookEvent, context: EventContext) -> None:
    record = _mapped(event, mapping.customer_record, _data(event))
    await _upsert(event, context, "people", [record])


@on(*PRODUCT_EVENTS)
async def product_changed(event: WebhookEvent, context: EventContext) -> None:
    record = _mapped(event, mapping.product_record, _data(event))
    await _upsert(event, context, "products", [record])


def _order_payload(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Some order events carry ``{"order_id": ...}`` or ``{"order": {...}}`` rather than the order itself."""
    if "id" not in data and "order_id" in data and not isinstance(data.get("order"), Mapping):
        return {**data, "id": data["order_id"]}
    return data


@on(*ORDER_EVENTS)
async def order_changed(event: WebhookEvent, context: EventContext) -> None:
    record = _mapped(event, mapping.order_record, _order_payload(_data(event)))
    await _upsert(event, context, "orders", [record])


async def _delete(event: WebhookEvent, context: EventContext, object_name: str, payload: Mapping[str, Any]) -> None:
    salla_id = mapping.salla_id(payload.get("id"))
    if salla_id is None:
        raise EventRejected(f"{event.event} without an id")
    tenant = await _crm_tenant(event)
    if tenant is None:
        return
    async with crm_connection(tenant, context.settings) as connection:
        catalogue = await catalogue_of(connection, tenant)
        deleted = await sources.delete_by_source(connection, catalogue, object_name, salla_id, at=_as_of(event))
    log.info("salla event applied", salla_event=event.event, tenant=tenant.slug, deleted=deleted)


@on(*PRODUCT_DELETE_EVENTS)
async def product_deleted(event: WebhookEvent, context: EventContext) -> None:
    await _delete(event, context, "products", _data(event))


@on(*ORDER_DELETE_EVENTS)
async def order_deleted(event: WebhookEvent, context: EventContext) -> None:
    data = _order_payload(_data(event))
    inner = data.get("order")
    await _delete(event, context, "orders", inner if isinstance(inner, Mapping) and "id" in inner else data)


@on("abandoned.cart")
async def abandoned_cart(event: WebhookEvent, context: EventContext) -> None:
    """A cart left at checkout becomes a deal "Abandoned cart — <customer>" at the pipeline's first stage, worth
    the cart's total and linked to the customer (who is added to the CRM if it does not know them yet). One deal
    per cart, however often the cart is delivered or updated; a merchant who moved the deal on keeps its stage."""
    data = _data(event)
    tenant = await _crm_tenant(event)
    if tenant is None:
        return
    async with crm_connection(tenant, context.settings) as connection:
        catalogue = await catalogue_of(connection, tenant)
        try:
            deal = mapping.cart_deal_record(data, first_stage=_first_stage(catalogue), as_of=_as_of(event))
        except mapping.UnusablePayload as problem:
            raise EventRejected(f"{event.event}: {problem}") from None
        customer = mapping.cart_customer_record(data)
        async with connection.transaction():
            if customer is not None:
                await sources.upsert_records(connection, catalogue, "people", [customer], timeline=True)
            outcome = await sources.upsert_records(connection, catalogue, "opportunities", [deal], timeline=True)
    log.info("salla abandoned cart applied", tenant=tenant.slug, created=outcome.created, updated=outcome.updated)


def _first_stage(catalogue: Catalogue) -> str | None:
    deals = catalogue.get("opportunities")
    stage = deals.field("stage") if deals else None
    if stage is None or stage.type != FieldType.SELECT or not stage.options:
        return None
    return stage.options[0].value
