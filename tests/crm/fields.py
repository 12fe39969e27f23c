"""Field definitions the CRM tests add to a tenant's objects."""

from __future__ import annotations

from app.crm.fields import Color, FieldDefinition, FieldType, SelectOption

__all__ = ["LOYALTY_TIER"]

LOYALTY_TIER = FieldDefinition(
    name="tier",
    type=FieldType.SELECT,
    label_en="Loyalty tier",
    label_ar="فئة الولاء",
    options=(SelectOption("gold", "Gold", "ذهبي", Color.YELLOW),),
)
"""A custom select field for customers, with one option."""
