"""Record forms: what a person typed (the *draft*, strings exactly as typed) <-> the engine's API values, and the
engine's reasons in words people read, in their language.

Every input of a field is named after the field (``city``) or a part of it (``total.amount``, ``phone.primary``,
``address.country``); a hidden ``_fields`` input lists the fields a form holds, so an unticked checkbox or an empty
multi-select still says "this field is in the form". Nothing typed is lost: a form that comes back with errors is
rendered from the draft, never from the parsed values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from litestar.datastructures import FormMultiDict

from app.crm.fields import COUNTRY_CODES, CURRENCY_DECIMALS, FieldDefinition, FieldType
from app.lib.i18n import DEFAULT_TIMEZONE, babel_locale
from app.lib.i18n import gettext as _

__all__ = [
    "FIELDS_KEY",
    "PARTS",
    "Draft",
    "FormState",
    "FormValues",
    "Parsed",
    "api_value",
    "countries",
    "currencies",
    "draft_of",
    "draft_of_record",
    "explain",
    "input_name",
    "parse_fields",
    "read_draft",
]

FIELDS_KEY = "_fields"
"""The hidden input that lists the fields a form holds."""

Draft = dict[str, Any]
"""Input name -> what was typed (a string; a list of strings for a multi-select)."""

PARTS: Mapping[FieldType, tuple[str, ...]] = {
    FieldType.CURRENCY: ("amount", "currency"),
    FieldType.PHONES: ("primary", "additional"),
    FieldType.EMAILS: ("primary", "additional"),
    FieldType.LINKS: ("primary_url", "primary_label", "additional"),
    FieldType.FULL_NAME: ("first", "last"),
    FieldType.ADDRESS: ("street", "city", "region", "postal_code", "country"),
}

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
_SEPARATORS = re.compile(r"[\s,٬'’]")
_LIST_SPLIT = re.compile(r"[,،;\n]+")


FormValues = FormMultiDict
"""What ``await request.form()`` gives."""


def input_name(field_def: FieldDefinition, part: str | None = None) -> str:
    return field_def.name if part is None else f"{field_def.name}.{part}"


# --- API value -> draft ------------------------------------------------------------------------------------------


def _zone(timezone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or DEFAULT_TIMEZONE)
    except (KeyError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def _local_datetime(value: str, timezone: str) -> str:
    """An API datetime (UTC) as ``datetime-local`` shows it in the workspace's time zone."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone(timezone)).strftime("%Y-%m-%dT%H:%M")


def draft_of(field_def: FieldDefinition, value: Any, timezone: str = DEFAULT_TIMEZONE) -> Draft:
    """The inputs of one field filled from its API value (or its default)."""
    kind = field_def.type
    if kind in PARTS:
        parts = {input_name(field_def, part): "" for part in PARTS[kind]}
        if kind == FieldType.CURRENCY:
            parts[input_name(field_def, "currency")] = field_def.settings.get("default_currency", "SAR")
        if not isinstance(value, Mapping):
            return parts
        if kind == FieldType.CURRENCY:
            parts[input_name(field_def, "amount")] = str(value.get("amount") or "")
            parts[input_name(field_def, "currency")] = str(
                value.get("currency") or parts[input_name(field_def, "currency")]
            )
        elif kind in (FieldType.PHONES, FieldType.EMAILS):
            parts[input_name(field_def, "primary")] = str(value.get("primary") or "")
            parts[input_name(field_def, "additional")] = ", ".join(str(item) for item in value.get("additional") or [])
        elif kind == FieldType.LINKS:
            parts[input_name(field_def, "primary_url")] = str(value.get("primary_url") or "")
            parts[input_name(field_def, "primary_label")] = str(value.get("primary_label") or "")
            parts[input_name(field_def, "additional")] = "\n".join(
                " ".join(part for part in (str(link.get("url") or ""), str(link.get("label") or "")) if part)
                for link in value.get("additional") or []
                if isinstance(link, Mapping)
            )
        else:
            for part in PARTS[kind]:
                parts[input_name(field_def, part)] = str(value.get(part) or "")
        return parts
    name = field_def.name
    if value is None:
        return {name: [] if kind == FieldType.MULTI_SELECT else ""}
    if kind == FieldType.MULTI_SELECT:
        return {name: [str(item) for item in value] if isinstance(value, list) else []}
    if kind == FieldType.BOOLEAN:
        return {name: "true" if value is True else ""}
    if kind == FieldType.DATETIME:
        return {name: _local_datetime(str(value), timezone)}
    if kind == FieldType.JSON:
        return {name: json.dumps(value, ensure_ascii=False, indent=2)}
    return {name: str(value)}


def draft_of_record(
    fields: Iterable[FieldDefinition], record: Mapping[str, Any] | None, timezone: str = DEFAULT_TIMEZONE
) -> Draft:
    """Inputs filled from a record, or from the fields' defaults for a new one."""
    draft: Draft = {}
    for field_def in fields:
        value = record.get(field_def.name) if record is not None else field_def.default
        draft.update(draft_of(field_def, value, timezone))
    return draft


def read_draft(field_def: FieldDefinition, form: FormValues) -> Draft:
    """What was typed into one field's inputs, exactly."""
    kind = field_def.type
    if kind in PARTS:
        return {input_name(field_def, part): str(form.get(input_name(field_def, part)) or "") for part in PARTS[kind]}
    if kind == FieldType.MULTI_SELECT:
        return {field_def.name: [str(item) for item in form.getall(field_def.name, [])]}
    if kind == FieldType.BOOLEAN:
        return {field_def.name: "true" if "true" in form.getall(field_def.name, []) else ""}
    return {field_def.name: str(form.get(field_def.name) or "")}


# --- draft -> API value ------------------------------------------------------------------------------------------


class NotUnderstood(ValueError):
    """What was typed cannot even be given to the engine (JSON that does not parse); the message is translated."""


def _number_text(text: str) -> str:
    return _SEPARATORS.sub("", text.strip().translate(_DIGITS))


def _items(text: str) -> list[str]:
    return [item.strip() for item in _LIST_SPLIT.split(text) if item.strip()]


def _aware_datetime(text: str, timezone: str) -> str:
    """``datetime-local`` text, read in the workspace's time zone, with its offset (the engine wants one)."""
    try:
        moment = datetime.fromisoformat(text.translate(_DIGITS))
    except ValueError:
        return text  # the engine explains what is wrong
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(timezone))
    return moment.isoformat()


def api_value(field_def: FieldDefinition, draft: Mapping[str, Any], timezone: str = DEFAULT_TIMEZONE) -> Any:
    """The API value of one field from its draft; raises `NotUnderstood`."""
    kind = field_def.type

    def part(name: str) -> str:
        return str(draft.get(input_name(field_def, name)) or "").strip()

    if kind == FieldType.CURRENCY:
        amount = part("amount")
        if not amount:
            return None
        return {"amount": _number_text(amount), "currency": part("currency") or None}
    if kind in (FieldType.PHONES, FieldType.EMAILS):
        primary, additional = part("primary"), _items(part("additional"))
        if not primary and not additional:
            return None
        return {"primary": primary or None, "additional": additional}
    if kind == FieldType.LINKS:
        url, label = part("primary_url"), part("primary_label")
        more = []
        for line in part("additional").splitlines():
            words = line.strip().split(None, 1)
            if words:
                more.append({"url": words[0], "label": words[1] if len(words) > 1 else None})
        if not url and not label and not more:
            return None
        return {"primary_url": url or None, "primary_label": label or None, "additional": more}
    if kind in (FieldType.FULL_NAME, FieldType.ADDRESS):
        values = {name: part(name) or None for name in PARTS[kind]}
        return values if any(values.values()) else None
    raw = draft.get(field_def.name)
    if kind == FieldType.MULTI_SELECT:
        return [str(item) for item in raw or []] or None
    if kind == FieldType.BOOLEAN:
        return raw == "true"
    text = str(raw or "")
    if kind in (FieldType.TEXT, FieldType.RICH_TEXT):
        return text if text.strip() else None
    text = text.strip()
    if not text:
        return None
    if kind == FieldType.NUMBER:
        return _number_text(text)
    if kind == FieldType.RATING:
        digits = text.translate(_DIGITS)
        return int(digits) if digits.isdigit() else text
    if kind == FieldType.DATETIME:
        return _aware_datetime(text, timezone)
    if kind == FieldType.DATE:
        return text.translate(_DIGITS)
    if kind == FieldType.JSON:
        try:
            return json.loads(text)
        except ValueError:
            raise NotUnderstood(_("This is not valid JSON.")) from None
    return text


@dataclass
class Parsed:
    data: dict[str, Any]
    """API values of the fields that could be read (ready for the engine)."""
    draft: Draft
    errors: dict[str, str]
    """Field -> message for what could not even be read."""


def parse_fields(fields: Iterable[FieldDefinition], form: FormValues, timezone: str = DEFAULT_TIMEZONE) -> Parsed:
    parsed = Parsed(data={}, draft={}, errors={})
    for field_def in fields:
        draft = read_draft(field_def, form)
        parsed.draft.update(draft)
        try:
            parsed.data[field_def.name] = api_value(field_def, draft, timezone)
        except NotUnderstood as problem:
            parsed.errors[field_def.name] = str(problem)
    return parsed


# --- the engine's reasons, for people ----------------------------------------------------------------------------

_PART_PREFIX = re.compile(r"^(?:[a-z_]+: )+")

_REASONS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^required$"), lambda m: _("This field is required.")),
    (re.compile(r"is already used by another record"), lambda m: _("Another record already uses this value.")),
    (re.compile(r"is not a (?:valid )?phone number"), lambda m: _("This is not a valid phone number.")),
    (re.compile(r"phone extensions are not supported"), lambda m: _("Phone extensions are not supported.")),
    (re.compile(r"is not a valid email address"), lambda m: _("This is not a valid e-mail address.")),
    (re.compile(r"is not a date"), lambda m: _("Enter a date such as 2025-01-31.")),
    (re.compile(r"datetime|UTC offset"), lambda m: _("Enter a valid date and time.")),
    (re.compile(r"expected a finite number|significant digits"), lambda m: _("Enter a number, such as 12 or 12.5.")),
    (re.compile(r"smaller than 10\^15|amount out of range"), lambda m: _("This number is too large.")),
    (re.compile(r"at most 0 decimal places"), lambda m: _("Enter a whole number.")),
    (
        re.compile(r"at most (\d+) decimal places"),
        lambda m: _("Use at most %(places)s decimal places.") % {"places": m[1]},
    ),
    (re.compile(r"longer than (\d+) characters"), lambda m: _("Use at most %(count)s characters.") % {"count": m[1]}),
    (re.compile(r"unknown currency"), lambda m: _("Choose a currency from the list.")),
    (re.compile(r"amount .*required"), lambda m: _("Enter an amount.")),
    (
        re.compile(r"is not one of|options must be distinct|options cannot be blank"),
        lambda m: _("Choose from the list."),
    ),
    (re.compile(r"is not a record id"), lambda m: _("Choose a record from the list.")),
    (
        re.compile(r"expected a whole number from 1 to (\d+)"),
        lambda m: _("Choose a rating from 1 to %(top)s.") % {"top": m[1]},
    ),
    (re.compile(r"link label needs a url"), lambda m: _("A link label needs a web address.")),
    (re.compile(r"URL"), lambda m: _("Enter a web address such as https://example.com.")),
    (re.compile(r"ISO 3166 country code"), lambda m: _("Choose a country from the list.")),
    (
        re.compile(r"holds at most (\d+) items"),
        lambda m: _("Add at most %(count)s more values.") % {"count": m[1]},
    ),
    (re.compile(r"not a JSON value|larger than \d+ bytes"), lambda m: _("This is not valid JSON, or it is too large.")),
    (re.compile(r"NUL character"), lambda m: _("This text contains a character that is not allowed.")),
    (re.compile(r"expected true or false"), lambda m: _("Choose yes or no.")),
]


def explain(reason: str) -> str:
    """The engine's reason (English, for developers and import reports) as a sentence in the viewer's language."""
    plain = _PART_PREFIX.sub("", reason)
    for pattern, message in _REASONS:
        match = pattern.search(plain)
        if match is not None:
            return message(match)
    return _("This value is not valid: %(reason)s") % {"reason": reason}


# --- what a form template needs ----------------------------------------------------------------------------------


_GULF_FIRST = ("SAR", "AED", "KWD", "QAR", "BHD", "OMR")


@cache
def currencies() -> tuple[str, ...]:
    """Currency codes: Gulf currencies first, the rest alphabetically."""
    first = [code for code in _GULF_FIRST if code in CURRENCY_DECIMALS]
    return (*first, *sorted(code for code in CURRENCY_DECIMALS if code not in first))


@cache
def countries(language: str) -> tuple[tuple[str, str], ...]:
    """(ISO code, name in ``language``), sorted by name."""
    names = babel_locale(language).territories
    return tuple(sorted(((code, names.get(code, code)) for code in COUNTRY_CODES), key=lambda pair: pair[1]))


@dataclass
class FormState:
    """A form's inputs as typed, their problems and the choices of relation fields, for templates/crm/_inputs.html."""

    draft: Draft
    errors: dict[str, str] = field(default_factory=dict)
    choices: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    prefix: str = "f"
    language: str = "en"
    options_base: str = ""
    """``/t/<slug>/o/<object>/fields``: where relation inputs fetch their choices as people type."""
    blank: bool = False
    """Nothing typed in it yet and no choices looked up: the same for every record (see `Dashboard.new_inputs`)."""

    def value(self, field_def: FieldDefinition, part: str | None = None) -> str:
        found = self.draft.get(input_name(field_def, part))
        return "" if found is None or isinstance(found, list) else str(found)

    def values(self, field_def: FieldDefinition) -> list[str]:
        found = self.draft.get(field_def.name)
        return [str(item) for item in found] if isinstance(found, list) else []

    def error(self, field_def: FieldDefinition) -> str:
        return self.errors.get(field_def.name, "")

    def id(self, field_def: FieldDefinition, part: str | None = None) -> str:
        return f"{self.prefix}-{field_def.name}" + (f"-{part}" if part else "")

    def currencies(self) -> tuple[str, ...]:
        return currencies()

    def countries(self) -> tuple[tuple[str, str], ...]:
        return countries(self.language)
