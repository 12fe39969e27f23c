"""Field types of the CRM engine: definitions, their PostgreSQL columns, validation and the API shape.

A field is described by a `FieldDefinition` (kept as metadata in the tenant database). Each field type maps to real
columns; composite types become several flat columns named ``{field}_{part}``, as in Twenty. `validate` turns a
JSON-shaped API value into column values, `to_api` turns column values back into the API shape.

Column values are what asyncpg sends and receives: numeric -> Decimal, date -> date, timestamptz -> aware datetime
(UTC), uuid -> UUID, text[] -> list[str], bigint/smallint -> int, and jsonb -> plain JSON values (lists and dicts), so
connections must register a json codec for jsonb.

Decisions worth knowing:
- `None`, a blank string and an empty list all clear a field; a required field cannot be cleared.
- Datetimes must carry a UTC offset ("Z" or "+03:00"); naive ones are rejected rather than guessed, since a merchant
  in Riyadh and a server in UTC would silently disagree by three hours. They are stored and returned in UTC.
- Money is never a float: amounts are strings ("12.50") or integers, or integer minor units.
- Numbers are stored as numeric and returned as JSON numbers (int when integral, else float).
- Links without a scheme ("salla.sa") get ``https://``; any scheme other than http(s) is rejected.
- A json field cannot hold JSON ``null``: `None` clears it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import nh3
import phonenumbers
from email_validator import EmailNotValidError, validate_email

__all__ = [
    "COUNTRY_CODES",
    "CURRENCY_DECIMALS",
    "RESERVED_NAMES",
    "Color",
    "Column",
    "FieldDefinition",
    "FieldError",
    "FieldType",
    "InvalidFieldDefinition",
    "RecordInvalid",
    "SelectOption",
    "column_names",
    "columns",
    "quote_ident",
    "sanitize_rich_text",
    "search_columns",
    "to_api",
    "validate",
    "validate_record",
]


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    CURRENCY = "currency"
    PHONES = "phones"
    EMAILS = "emails"
    LINKS = "links"
    FULL_NAME = "full_name"
    ADDRESS = "address"
    SELECT = "select"
    MULTI_SELECT = "multi_select"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    RATING = "rating"
    RICH_TEXT = "rich_text"
    RELATION = "relation"
    JSON = "json"


class Color(StrEnum):
    """The palette select options are drawn from (Twenty's tag colours)."""

    GRAY = "gray"
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    GREEN = "green"
    TURQUOISE = "turquoise"
    SKY = "sky"
    BLUE = "blue"
    PURPLE = "purple"
    PINK = "pink"


_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_MAX_IDENTIFIER = 63  # PostgreSQL silently truncates longer identifiers, which could make two columns collide.

# Base columns of every record table, and PostgreSQL's system columns.
RESERVED_NAMES = frozenset(
    {"id", "created_at", "updated_at", "deleted_at", "created_by", "updated_by", "position", "search_vector"}
    # The record columns of migrations/tenant/0002_crm_objects.sql:
    | {"created_by_source", "created_by_id", "created_by_name", "updated_by_source", "updated_by_id"}
    | {"updated_by_name", "search_text", "salla_updated_at"}
    | {"oid", "tableoid", "xmin", "xmax", "cmin", "cmax", "ctid"}
)

# ISO 4217 minor-unit digits.
CURRENCY_DECIMALS: Mapping[str, int] = MappingProxyType(
    {"SAR": 2, "AED": 2, "QAR": 2, "BHD": 3, "KWD": 3, "OMR": 3}
    | {"EGP": 2, "JOD": 3, "IQD": 3, "LBP": 2, "MAD": 2, "TND": 3, "LYD": 3, "DZD": 2}
    | {"USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "CNY": 2, "INR": 2, "PKR": 2, "TRY": 2}
    | {"JPY": 0, "KRW": 0}
)

_ISO_3166_ALPHA_2 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
    JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
    MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
    RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
    TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES = frozenset(_ISO_3166_ALPHA_2.split())

_MAX_LABEL = 100
_MAX_OPTIONS = 200
_MAX_ADDITIONAL = 20
_MAX_NAME_PART = 200
_MAX_URL = 2048
_MAX_NUMBER = Decimal(10) ** 15  # beyond this a JSON float no longer carries every digit
_BIGINT = 2**63
_MAX_DIGITS = 27
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_DECIMAL_TEXT = re.compile(r"-?\d{1,40}(?:\.\d{1,40})?", re.ASCII)
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATETIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", re.ASCII)
_BARE_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)+(?::\d+)?(?:[/?#].*)?")
_RICH_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "a", "ul", "ol", "li", "h2", "h3", "blockquote", "code"}


class InvalidFieldDefinition(ValueError):
    """A field definition (name, labels, options, settings, default) the engine cannot accept."""


class FieldError(ValueError):
    """A value a field cannot hold; `reason` is meant for people (and per-row import reports)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class RecordInvalid(ValueError):
    """Every per-field problem of one record, keyed by field name."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("invalid record: " + "; ".join(f"{name}: {reason}" for name, reason in self.errors.items()))


class _Reject(Exception):
    """A reason without the field name; `validate` turns it into a FieldError."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier; only lower-case snake_case names are accepted at all."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return f'"{name}"'


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    nullable: bool = True

    @property
    def ddl(self) -> str:
        """The column definition for CREATE TABLE / ALTER TABLE ADD COLUMN."""
        return f"{quote_ident(self.name)} {self.sql_type}{'' if self.nullable else ' NOT NULL'}"


@dataclasses.dataclass(frozen=True)
class SelectOption:
    value: str
    label_en: str
    label_ar: str
    color: Color = Color.GRAY

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not _NAME.fullmatch(self.value):
            raise InvalidFieldDefinition(f"option value {_show(self.value)} must be snake_case (a-z, 0-9, _)")
        _check_label("option label_en", self.label_en)
        _check_label("option label_ar", self.label_ar)
        try:
            object.__setattr__(self, "color", Color(self.color))
        except ValueError:
            raise InvalidFieldDefinition(f"unknown colour {_show(self.color)}; use one of {', '.join(Color)}") from None


@dataclasses.dataclass(frozen=True)
class FieldDefinition:
    """One field of an object. `settings` holds every setting of the type, defaults filled in."""

    name: str
    type: FieldType
    label_en: str
    label_ar: str
    required: bool = False
    unique: bool = False
    options: tuple[SelectOption, ...] = ()
    default: Any = dataclasses.field(default=None, hash=False)
    settings: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)
    searchable: bool = False
    _columns: ClassVar[tuple[str, ...]]
    """The field's columns (`column_names`), set on each instance when it is made: a list page reads them for
    every cell."""

    def __post_init__(self) -> None:
        try:
            kind = FieldType(self.type)
        except ValueError:
            raise InvalidFieldDefinition(f"unknown field type {_show(self.type)}") from None
        object.__setattr__(self, "type", kind)
        _check_name(self.name, kind)
        object.__setattr__(self, "_columns", tuple(self.name + suffix for suffix, _, _ in _LAYOUT[kind]))
        _check_label("label_en", self.label_en)
        _check_label("label_ar", self.label_ar)
        object.__setattr__(self, "options", _checked_options(kind, tuple(self.options)))
        object.__setattr__(self, "settings", MappingProxyType(_checked_settings(kind, self.settings)))
        if self.unique and kind not in _UNIQUE_TYPES:
            raise InvalidFieldDefinition(f"a {kind} field cannot be unique")
        if self.searchable and kind not in _SEARCH_PARTS:
            raise InvalidFieldDefinition(f"a {kind} field cannot be searchable")
        if self.default is not None:
            try:
                validate(self, self.default)
            except FieldError as exc:
                raise InvalidFieldDefinition(f"default: {exc.reason}") from None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_name(name: str, kind: FieldType) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidFieldDefinition(
            f"field name {_show(name)} must be snake_case: a lower-case letter, then a-z, 0-9 or _ (at most 63)"
        )
    longest = max(len(suffix) for suffix, _, _ in _LAYOUT[kind])
    if len(name) + longest > _MAX_IDENTIFIER:
        raise InvalidFieldDefinition(f"a {kind} field name is at most {_MAX_IDENTIFIER - longest} characters")
    clash = {name + suffix for suffix, _, _ in _LAYOUT[kind]} & RESERVED_NAMES
    if clash:
        raise InvalidFieldDefinition(f"{', '.join(sorted(clash))} is reserved")


def _check_label(what: str, label: str) -> None:
    if not isinstance(label, str) or not label.strip() or len(label) > _MAX_LABEL or "\x00" in label:
        raise InvalidFieldDefinition(f"{what} must be a non-empty text of at most {_MAX_LABEL} characters")


def _checked_options(kind: FieldType, options: tuple[SelectOption, ...]) -> tuple[SelectOption, ...]:
    if kind not in (FieldType.SELECT, FieldType.MULTI_SELECT):
        if options:
            raise InvalidFieldDefinition(f"a {kind} field has no options")
        return options
    if not options or len(options) > _MAX_OPTIONS:
        raise InvalidFieldDefinition(f"a {kind} field needs between 1 and {_MAX_OPTIONS} options")
    if not all(isinstance(option, SelectOption) for option in options):
        raise InvalidFieldDefinition("options must be SelectOption values")
    if len({option.value for option in options}) != len(options):
        raise InvalidFieldDefinition("option values must be distinct")
    return options


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_between(low: int, high: int) -> Callable[[Any], bool]:
    return lambda value: _is_int(value) and low <= value <= high


_DEFAULT_SETTINGS: dict[FieldType, dict[str, Any]] = {
    FieldType.TEXT: {"max_length": 10_000},
    FieldType.NUMBER: {"decimals": None},
    FieldType.CURRENCY: {"default_currency": "SAR"},
    FieldType.PHONES: {"default_region": "SA"},
    FieldType.RATING: {"max": 5},
    FieldType.RICH_TEXT: {"max_length": 100_000},
    FieldType.RELATION: {"target": None},
    FieldType.JSON: {"max_bytes": 65_536},
}

_SETTING_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "max_length": (_int_between(1, 1_000_000), "an integer from 1 to 1000000"),
    "decimals": (lambda v: v is None or _int_between(0, 12)(v), "null or an integer from 0 to 12"),
    "default_currency": (lambda v: isinstance(v, str) and v in CURRENCY_DECIMALS, "a known ISO 4217 currency code"),
    "default_region": (lambda v: isinstance(v, str) and v in phonenumbers.SUPPORTED_REGIONS, "a region like SA"),
    "max": (_int_between(1, 10), "an integer from 1 to 10"),
    "target": (lambda v: v is None or (isinstance(v, str) and bool(_NAME.fullmatch(v))), "an object name"),
    "max_bytes": (_int_between(1, 1_048_576), "an integer from 1 to 1048576"),
}


def _checked_settings(kind: FieldType, given: Mapping[str, Any]) -> dict[str, Any]:
    settings = dict(_DEFAULT_SETTINGS.get(kind, {}))
    for key, value in given.items():
        if key not in settings:
            raise InvalidFieldDefinition(f"a {kind} field has no setting {_show(key)}")
        check, expected = _SETTING_CHECKS[key]
        if not check(value):
            raise InvalidFieldDefinition(f"setting {key} must be {expected}")
        settings[key] = value
    return settings


# Per type: (column suffix, SQL type, filled whenever the field has a value).
_LAYOUT: dict[FieldType, tuple[tuple[str, str, bool], ...]] = {
    FieldType.TEXT: (("", "text", True),),
    FieldType.NUMBER: (("", "numeric", True),),
    FieldType.CURRENCY: (("_amount_minor", "bigint", True), ("_currency", "char(3)", True)),
    FieldType.PHONES: (("_primary", "text", True), ("_additional", "jsonb", False)),
    FieldType.EMAILS: (("_primary", "text", True), ("_additional", "jsonb", False)),
    FieldType.LINKS: (
        ("_primary_url", "text", True),
        ("_primary_label", "text", False),
        ("_additional", "jsonb", False),
    ),
    FieldType.FULL_NAME: (("_first", "text", False), ("_last", "text", False)),
    FieldType.ADDRESS: (
        ("_street", "text", False),
        ("_city", "text", False),
        ("_region", "text", False),
        ("_postal_code", "text", False),
        ("_country", "char(2)", False),
    ),
    FieldType.SELECT: (("", "text", True),),
    FieldType.MULTI_SELECT: (("", "text[]", True),),
    FieldType.BOOLEAN: (("", "boolean", True),),
    FieldType.DATE: (("", "date", True),),
    FieldType.DATETIME: (("", "timestamptz", True),),
    FieldType.RATING: (("", "smallint", True),),
    FieldType.RICH_TEXT: (("", "text", True),),
    FieldType.RELATION: (("", "uuid", True),),
    FieldType.JSON: (("", "jsonb", True),),
}

# A unique index goes on the field's first column.
_UNIQUE_TYPES = frozenset(
    {FieldType.TEXT, FieldType.NUMBER, FieldType.PHONES, FieldType.EMAILS, FieldType.LINKS}
    | {FieldType.DATE, FieldType.DATETIME, FieldType.RELATION}
)

_SEARCH_PARTS: dict[FieldType, tuple[str, ...]] = {
    FieldType.TEXT: ("",),
    FieldType.RICH_TEXT: ("",),
    FieldType.FULL_NAME: ("_first", "_last"),
    FieldType.EMAILS: ("_primary",),
    FieldType.PHONES: ("_primary",),
    FieldType.LINKS: ("_primary_url", "_primary_label"),
    FieldType.ADDRESS: ("_street", "_city", "_region"),
}


def columns(field: FieldDefinition) -> list[Column]:
    """The field's columns. NOT NULL only where validation always fills the column of a required field."""
    return [
        Column(field.name + suffix, sql_type, nullable=not (field.required and filled))
        for suffix, sql_type, filled in _LAYOUT[field.type]
    ]


def column_names(field: FieldDefinition) -> list[str]:
    return list(field._columns)


def search_columns(field: FieldDefinition) -> list[str]:
    """The text columns that feed the record's search vector ([] unless the field is searchable)."""
    return [field.name + suffix for suffix in _SEARCH_PARTS[field.type]] if field.searchable else []


def validate(field: FieldDefinition, value: Any) -> dict[str, Any]:
    """Column values for an API value; raises FieldError with a reason."""
    if value is None:
        values: tuple[Any, ...] = (None,) * len(_LAYOUT[field.type])
    else:
        try:
            values = _PARSERS[field.type](field, value)
        except _Reject as exc:
            raise FieldError(field.name, exc.reason) from None
    if field.required and all(v is None for v in values):
        raise FieldError(field.name, "required")
    return dict(zip(column_names(field), values, strict=True))


def validate_record(fields: Sequence[FieldDefinition], data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Column values for a record; `partial` (PATCH) allows required fields to be missing. Raises RecordInvalid."""
    by_name = {field.name: field for field in fields}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in data.items():
        field = by_name.get(key)
        if field is None:
            errors[str(key)] = "unknown field"
            continue
        try:
            values.update(validate(field, value))
        except FieldError as exc:
            errors[key] = exc.reason
    if not partial:
        for field in fields:
            if field.name in data:
                continue
            if field.default is not None:
                values.update(validate(field, field.default))
            elif field.required:
                errors[field.name] = "required"
    if errors:
        raise RecordInvalid(errors)
    return values


def to_api(field: FieldDefinition, row: Mapping[str, Any]) -> Any:
    """The API value of a field from a row (a Mapping or asyncpg Record holding its columns)."""
    return _RENDERERS[field.type](field, tuple(row[name] for name in field._columns))


# Parsers: (field, non-None value) -> column values in _LAYOUT order; they raise _Reject.


def _string(value: Any, max_length: int) -> str | None:
    if not isinstance(value, str):
        raise _Reject("expected text")
    text = value.strip()
    if "\x00" in text:
        raise _Reject("contains a NUL character")
    if len(text) > max_length:
        raise _Reject(f"longer than {max_length} characters")
    return text or None


def _mapping(value: Any, keys: Iterable[str], shape: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Reject(f"expected {shape}")
    unknown = [str(key) for key in value if key not in keys]
    if unknown:
        raise _Reject(f"unknown key {', '.join(sorted(unknown))}; expected {shape}")
    return value


def _part(mapping: Mapping[str, Any], key: str, parse: Callable[[Any], Any]) -> Any:
    item = mapping.get(key)
    if item is None:
        return None
    try:
        return parse(item)
    except _Reject as exc:
        raise _Reject(f"{key}: {exc.reason}") from None


def _additional(entry: Mapping[str, Any], parse: Callable[[Any], Any]) -> list[Any]:
    items = entry.get("additional")
    if items is None:
        return []
    if not isinstance(items, list):
        raise _Reject("additional must be a list")
    if len(items) > _MAX_ADDITIONAL:
        raise _Reject(f"additional holds at most {_MAX_ADDITIONAL} items")
    return [_part({"additional": item}, "additional", parse) for item in items]


def _parse_text(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    return (_string(value, field.settings["max_length"]),)


def _decimal(value: Any) -> Decimal:
    number = _as_decimal(value)
    # Decimal arithmetic rounds to 28 significant digits, which would hide extra decimal places.
    if len(number.as_tuple().digits) > _MAX_DIGITS:
        raise _Reject(f"more than {_MAX_DIGITS} significant digits")
    return number


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))  # the shortest repr: 0.1 -> Decimal("0.1"), not its binary expansion
    if isinstance(value, str):
        text = value.strip().translate(_DIGITS)
        if _DECIMAL_TEXT.fullmatch(text):
            return Decimal(text)
    raise _Reject('expected a finite number, e.g. 12 or 12.5 or "12.5"')


def _has_places(number: Decimal, places: int) -> bool:
    scaled = number.scaleb(places)
    return scaled == scaled.to_integral_value()


def _parse_number(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    number = _decimal(value)
    if abs(number) >= _MAX_NUMBER:
        raise _Reject("must be smaller than 10^15 in magnitude")
    decimals = field.settings["decimals"]
    if decimals is not None and not _has_places(number, decimals):
        raise _Reject(f"at most {decimals} decimal places")
    return (number,)


def _parse_currency(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    shape = '{"amount": "12.50", "currency": "SAR"} or {"amount_minor": 1250, "currency": "SAR"}'
    money = _mapping(value, ("amount", "amount_minor", "currency"), shape)
    code = money.get("currency")
    code = field.settings["default_currency"] if code is None else code
    if not isinstance(code, str) or code.strip().upper() not in CURRENCY_DECIMALS:
        raise _Reject(f"unknown currency {_show(code)}")
    code = code.strip().upper()
    minor = _minor_units(money, code, CURRENCY_DECIMALS[code])
    if not -_BIGINT <= minor < _BIGINT:
        raise _Reject("amount out of range")
    return (minor, code)


def _minor_units(money: Mapping[str, Any], code: str, places: int) -> int:
    amount, minor = money.get("amount"), money.get("amount_minor")
    if minor is not None and not _is_int(minor):
        raise _Reject("amount_minor must be an integer")
    if amount is None:
        if minor is None:
            raise _Reject("amount (or amount_minor) is required")
        return int(minor)
    if isinstance(amount, float):
        raise _Reject('give amounts as a string such as "12.50" or as amount_minor, never as a floating-point number')
    number = _decimal(amount)
    if not _has_places(number, places):
        raise _Reject(f"{code} amounts have at most {places} decimal places")
    scaled = number.scaleb(places)
    if minor is not None and minor != scaled:
        raise _Reject("amount and amount_minor disagree")
    return int(scaled)


def _phone(region: str) -> Callable[[Any], str | None]:
    def parse(value: Any) -> str | None:
        text = _string(value, 40)
        if text is None:
            return None
        try:
            number = phonenumbers.parse(text.translate(_DIGITS), region)
        except phonenumbers.NumberParseException:
            raise _Reject(f"{_show(text)} is not a phone number") from None
        if not phonenumbers.is_valid_number(number):
            raise _Reject(f"{_show(text)} is not a valid phone number")
        if number.extension:
            raise _Reject("phone extensions are not supported")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return parse


# A plain ASCII address — dot-atom local part, letter/digit/hyphen domain labels, an alphabetic top-level domain
# that is not special-use — is one email_validator accepts unchanged but for case. Recognising it here takes about
# 1 µs instead of 20, which is most of a 100k-row import's e-mail cost; anything else goes through email_validator.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_SPECIAL_USE_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def _plain_email(text: str) -> str | None:
    lowered = text.lower()
    if not lowered.isascii() or len(lowered) > 254 or not _PLAIN_EMAIL.fullmatch(lowered):
        return None
    local, _, domain = lowered.rpartition("@")
    if len(local) > 64 or len(domain) > 253 or domain.rsplit(".", 1)[1] in _SPECIAL_USE_TLDS:
        return None
    if any(label[2:4] == "--" for label in domain.split(".")):
        return None  # hyphens in the 3rd and 4th places are reserved (IDNA): email_validator decides
    return lowered


def _email(value: Any) -> str | None:
    text = _string(value, 320)
    if text is None:
        return None
    plain = _plain_email(text)
    if plain is not None:
        return plain
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise _Reject(f"{_show(text)} is not a valid email address: {exc}") from None


def _primary_and_additional(value: Any, parse: Callable[[Any], str | None]) -> tuple[Any, ...]:
    shape = '"..." or {"primary": "...", "additional": ["..."]}'
    entry = _mapping({"primary": value} if isinstance(value, str) else value, ("primary", "additional"), shape)
    found = [_part(entry, "primary", parse)]
    found += _additional(entry, parse)
    distinct = list(dict.fromkeys(item for item in found if item is not None))
    if not distinct:
        return (None, None)
    return (distinct[0], distinct[1:])


def _parse_phones(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    return _primary_and_additional(value, _phone(field.settings["default_region"]))


def _parse_emails(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    return _primary_and_additional(value, _email)


def _url(value: Any) -> str | None:
    text = _string(value, _MAX_URL)
    if text is None:
        return None
    if "://" not in text and _BARE_HOST.fullmatch(text):
        text = "https://" + text
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError:
        raise _Reject(f"{_show(text)} is not a URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _Reject(f"{_show(text)} is not an http(s) URL")
    if parts.username is not None or any(char.isspace() or ord(char) < 32 for char in text):
        raise _Reject(f"{_show(text)} is not a plain http(s) URL")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment))


def _link(value: Any) -> dict[str, Any] | None:
    entry = _mapping({"url": value} if isinstance(value, str) else value, ("url", "label"), '{"url": "https://..."}')
    url = _part(entry, "url", _url)
    label = _part(entry, "label", lambda v: _string(v, _MAX_NAME_PART))
    if url is None and label is not None:
        raise _Reject("a link label needs a url")
    return None if url is None else {"url": url, "label": label}


def _parse_links(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    shape = '"https://..." or {"primary_url": "...", "primary_label": "...", "additional": [...]}'
    entry = _mapping(
        {"primary_url": value} if isinstance(value, str) else value,
        ("primary_url", "primary_label", "additional"),
        shape,
    )
    primary = {"url": entry.get("primary_url"), "label": entry.get("primary_label")}
    found = [_link({key: item for key, item in primary.items() if item is not None})]
    found += _additional(entry, _link)
    distinct: dict[str, dict[str, Any]] = {}
    for link in found:
        if link is not None:
            distinct.setdefault(link["url"], link)
    if not distinct:
        return (None, None, None)
    first, *rest = distinct.values()
    return (first["url"], first["label"], rest)


def _parse_full_name(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    name = _mapping(value, ("first", "last"), '{"first": "...", "last": "..."}')
    return tuple(_part(name, key, lambda v: _string(v, _MAX_NAME_PART)) for key in ("first", "last"))


def _country(value: Any) -> str | None:
    text = _string(value, 2)
    if text is not None and text.upper() not in COUNTRY_CODES:
        raise _Reject(f"{_show(text)} is not an ISO 3166 country code such as SA")
    return None if text is None else text.upper()


_ADDRESS_PARTS: dict[str, Callable[[Any], Any]] = {
    "street": lambda v: _string(v, 500),
    "city": lambda v: _string(v, _MAX_NAME_PART),
    "region": lambda v: _string(v, _MAX_NAME_PART),
    "postal_code": lambda v: _string(v, 20),
    "country": _country,
}


def _parse_address(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    address = _mapping(value, _ADDRESS_PARTS, '{"street", "city", "region", "postal_code", "country"}')
    return tuple(_part(address, key, parse) for key, parse in _ADDRESS_PARTS.items())


def _option(field: FieldDefinition, value: Any) -> str | None:
    text = _string(value, 63)
    if text is not None and text not in {option.value for option in field.options}:
        raise _Reject(f"{_show(text)} is not one of {', '.join(option.value for option in field.options)}")
    return text


def _parse_select(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    return (_option(field, value),)


def _parse_multi_select(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise _Reject("expected a list of options")
    chosen = [_option(field, item) for item in value]
    if None in chosen:
        raise _Reject("options cannot be blank")
    if len(set(chosen)) != len(chosen):
        raise _Reject("options must be distinct")
    order = [option.value for option in field.options if option.value in chosen]
    return (order or None,)


def _parse_boolean(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    if not isinstance(value, bool):
        raise _Reject("expected true or false")
    return (value,)


def _parse_date(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    if isinstance(value, date) and not isinstance(value, datetime):
        return (value,)
    text = _string(value, 40)
    if text is None:
        return (None,)
    try:
        if not _DATE_TEXT.fullmatch(text):
            raise ValueError(text)
        return (date.fromisoformat(text),)
    except ValueError:
        raise _Reject(f"{_show(text)} is not a date in the form 2025-01-31") from None


def _parse_datetime(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    if isinstance(value, datetime):
        moment = value
    else:
        text = _string(value, 40)
        if text is None:
            return (None,)
        try:
            if not _DATETIME_TEXT.fullmatch(text):
                raise ValueError(text)
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _Reject(f"{_show(text)} is not an ISO 8601 datetime such as 2025-01-31T09:30:00+03:00") from None
    if moment.utcoffset() is None:
        raise _Reject('a datetime needs a UTC offset, such as "Z" or "+03:00"')
    return (moment.astimezone(UTC),)


def _parse_rating(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    top = field.settings["max"]
    if not _is_int(value) or not 1 <= value <= top:
        raise _Reject(f"expected a whole number from 1 to {top}")
    return (value,)


def _parse_rich_text(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    text = _string(value, field.settings["max_length"])
    if text is None:
        return (None,)
    return (sanitize_rich_text(text).strip() or None,)


def sanitize_rich_text(html: str) -> str:
    """Only harmless formatting tags and http(s)/mailto links survive."""
    return nh3.clean(
        html,
        tags=_RICH_TAGS,
        attributes={"a": {"href"}, "*": set()},
        url_schemes={"http", "https", "mailto"},
        url_relative="deny",
        link_rel="noopener noreferrer nofollow",
    )


def _parse_relation(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    if isinstance(value, uuid.UUID):
        return (value,)
    text = _string(value, 45)
    try:
        return (None if text is None else uuid.UUID(text),)
    except ValueError:
        raise _Reject(f"{_show(text)} is not a record id (UUID)") from None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _parse_json(field: FieldDefinition, value: Any) -> tuple[Any, ...]:
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        raise _Reject("not a JSON value") from None
    limit = field.settings["max_bytes"]
    if len(text.encode()) > limit:
        raise _Reject(f"larger than {limit} bytes")
    copy = json.loads(text)
    if _has_nul(copy):
        raise _Reject("contains a NUL character")
    return (copy,)


_PARSERS: dict[FieldType, Callable[[FieldDefinition, Any], tuple[Any, ...]]] = {
    FieldType.TEXT: _parse_text,
    FieldType.NUMBER: _parse_number,
    FieldType.CURRENCY: _parse_currency,
    FieldType.PHONES: _parse_phones,
    FieldType.EMAILS: _parse_emails,
    FieldType.LINKS: _parse_links,
    FieldType.FULL_NAME: _parse_full_name,
    FieldType.ADDRESS: _parse_address,
    FieldType.SELECT: _parse_select,
    FieldType.MULTI_SELECT: _parse_multi_select,
    FieldType.BOOLEAN: _parse_boolean,
    FieldType.DATE: _parse_date,
    FieldType.DATETIME: _parse_datetime,
    FieldType.RATING: _parse_rating,
    FieldType.RICH_TEXT: _parse_rich_text,
    FieldType.RELATION: _parse_relation,
    FieldType.JSON: _parse_json,
}


# Renderers: (field, column values in _LAYOUT order) -> API value.


def _render_plain(field: FieldDefinition, values: tuple[Any, ...]) -> Any:
    return values[0]


def _render_number(field: FieldDefinition, values: tuple[Any, ...]) -> Any:
    number = values[0]
    if number is None:
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _render_currency(field: FieldDefinition, values: tuple[Any, ...]) -> Any:
    minor, code = values
    if minor is None:
        return None
    code = code.strip()
    places = CURRENCY_DECIMALS.get(code, 2)
    return {"amount": f"{Decimal(minor).scaleb(-places):.{places}f}", "amount_minor": minor, "currency": code}


def _render_primary_and_additional(field: FieldDefinition, values: tuple[Any, ...]) -> Any:
    primary, additional = values
    return None if primary is None else {"primary": primary, "additional": list(additional or [])}


def _render_links(field: FieldDefinition, values: tuple[Any, ...]) -> Any:
    url, label, additional = values
    if url is None:
        return None
    return {"primary_url": url, "primary_label": label, "additional": list(additional or [])}


def _render_parts(*keys: str) -> Callable[[FieldDefinition, tuple[Any, ...]], Any]:
    def render(field: FieldDefinition, values: tuple[Any, ...]) -> Any:
        if all(value is None for value in values):
            return None
        return {key: None if value is None else value.strip() for key, value in zip(keys, values, strict=True)}

    return render


def _render_multi_select(field: FieldDefinition, values: tuple[Any, ...]) -> Any:
    return list(values[0] or [])


def _render_date(field: FieldDefinition, values: tuple[Any, ...]) -> Any:
    return None if values[0] is None else values[0].isoformat()


def _render_datetime(field: FieldDefinition, values: tuple[Any, ...]) -> Any:
    moment = values[0]
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _render_relation(field: FieldDefinition, values: tuple[Any, ...]) -> Any:
    return None if values[0] is None else str(values[0])


_RENDERERS: dict[FieldType, Callable[[FieldDefinition, tuple[Any, ...]], Any]] = {
    FieldType.TEXT: _render_plain,
    FieldType.NUMBER: _render_number,
    FieldType.CURRENCY: _render_currency,
    FieldType.PHONES: _render_primary_and_additional,
    FieldType.EMAILS: _render_primary_and_additional,
    FieldType.LINKS: _render_links,
    FieldType.FULL_NAME: _render_parts("first", "last"),
    FieldType.ADDRESS: _render_parts(*_ADDRESS_PARTS),
    FieldType.SELECT: _render_plain,
    FieldType.MULTI_SELECT: _render_multi_select,
    FieldType.BOOLEAN: _render_plain,
    FieldType.DATE: _render_date,
    FieldType.DATETIME: _render_datetime,
    FieldType.RATING: _render_plain,
    FieldType.RICH_TEXT: _render_plain,
    FieldType.RELATION: _render_relation,
    FieldType.JSON: _render_plain,
}
