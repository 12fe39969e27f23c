"""Translations and locale-aware formatting.

Text is written in English and marked for translation: ``{{ _("Save") }}`` in templates, ``_("Save")`` in Python
(``from app.lib.i18n import gettext as _``). The Arabic lives in gettext catalogues made with Babel:
``app/locales/ar/LC_MESSAGES/*.po`` (see docs/i18n.md for extracting and updating them). Catalogues are read once
per process, straight from the ``.po`` files, so there is no compile step to forget.

Which language? In templates, the request's (``locale_for``); in Python, the one activated for the current task
(`activate`), which the dashboard does for every request; English otherwise.

Numbers, money and dates go through Babel with the CLDR data of ``ar_SA`` or ``en``: ``{{ n | number }}``,
``{{ minor | money("SAR") }}``, ``{{ d | date }}``, ``{{ ts | datetime }}``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale as BabelLocale
from babel import dates, numbers
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, Template, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context, new_context
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from app.lib.locale import DEFAULT, SUPPORTED, locale_for
from app.settings import PROJECT_ROOT

__all__ = [
    "CATALOGUE_DIR",
    "activate",
    "babel_locale",
    "current_language",
    "format_date",
    "format_datetime",
    "format_money",
    "format_number",
    "gettext",
    "install",
    "lazy",
    "ngettext",
    "translations",
    "use_language",
]

CATALOGUE_DIR = PROJECT_ROOT / "app" / "locales"
DEFAULT_TIMEZONE = "Asia/Riyadh"
_BABEL_LOCALES = {"ar": "ar_SA", "en": "en"}

_language: ContextVar[str] = ContextVar("wosool_language", default=DEFAULT.code)


@cache
def translations(language: str) -> NullTranslations:
    """The language's catalogue: every ``.po`` file of ``app/locales/<language>/LC_MESSAGES``, merged."""
    folder = CATALOGUE_DIR / language / "LC_MESSAGES"
    files = sorted(folder.glob("*.po")) if folder.is_dir() else []
    if not files:
        return NullTranslations()
    merged: Catalog | None = None
    for path in files:
        with path.open("rb") as handle:
            catalogue = read_po(handle, locale=language)
        if merged is None:
            merged = catalogue
            continue
        for message in catalogue:
            if message.id and message.id not in merged:
                merged[message.id] = message
    assert merged is not None
    buffer = io.BytesIO()
    write_mo(buffer, merged)  # fuzzy entries are left out, as gettext does
    buffer.seek(0)
    return Translations(buffer)


def activate(language: str) -> Token[str]:
    """Speak ``language`` in this task (the dashboard calls it for each request)."""
    return _language.set(language if language in SUPPORTED else DEFAULT.code)


@contextmanager
def use_language(language: str) -> Iterator[None]:
    token = activate(language)
    try:
        yield
    finally:
        _language.reset(token)


def current_language() -> str:
    return _language.get()


def gettext(message: str) -> str:
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, count)


def lazy(message: str) -> str:
    """Marks a module-level message for extraction; translate it where it is shown, with `gettext`."""
    return message


def babel_locale(language: str) -> BabelLocale:
    return _babel_locale(_BABEL_LOCALES.get(language, "en"))


_remembered = lru_cache(maxsize=4096, typed=True)
"""Formatting through Babel costs tens of microseconds a value and pages show the same numbers and dates again and
again (counts, a record's dates): the last few thousand answers are remembered. Pure functions of their arguments."""


@cache
def _babel_locale(identifier: str) -> BabelLocale:
    """Parsed once: parsing looks the locale's data up on disk."""
    return BabelLocale.parse(identifier)


@_remembered
def format_number(value: int | float | Decimal | None, language: str, *, decimals: int | None = None) -> str:
    if value is None:
        return ""
    if decimals is None:
        return numbers.format_decimal(value, locale=babel_locale(language))
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return numbers.format_decimal(value, format=pattern, locale=babel_locale(language))


@_remembered
def format_money(minor_units: int | None, currency: str | None, language: str) -> str:
    """An amount stored in minor units (halalas for SAR) as the language writes money."""
    if minor_units is None:
        return ""
    code = currency or "SAR"
    places = numbers.get_currency_precision(code)
    amount = Decimal(minor_units).scaleb(-places)
    return numbers.format_currency(amount, code, locale=babel_locale(language))


def _zone(timezone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or DEFAULT_TIMEZONE)
    except (KeyError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


@_remembered
def format_date(value: dt.date | str | None, language: str, *, style: str = "medium") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return dates.format_date(value, format=style, locale=babel_locale(language))


@_remembered
def format_datetime(
    value: dt.datetime | str | None, language: str, *, timezone: str | None = None, style: str = "medium"
) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return dates.format_datetime(value, format=style, tzinfo=_zone(timezone), locale=babel_locale(language))


# Jinja: the request decides the language of a page.
#
# Templates call ``_()`` dozens of times a page, most of them with a message written out (``_("Save")``). So each
# template is compiled once per language (`_in_language`: an overlay of the environment per language, each with its
# own compiled templates), and there such a call is compiled to its translation (`_TranslatedMessages`): the text
# joins the template's own, and costs nothing when the page renders (a ``{% trans %}`` block without a plural
# too: Jinja makes it such a call). What stays a call (``_(variable)``, ``ngettext``) reads the page's language,
# set aside once when a template starts rendering (`_PageTemplate`): Jinja's own newstyle callables take the
# template context, and Jinja copies the whole context for each such call made where a loop or block has set a
# variable.

_TEMPLATE_CACHE_LIMIT = 5000
"""Most messages remembered per language (templates have a few hundred; ``_(variable)`` must not grow it forever)."""
_template_texts: dict[tuple[str, bool], dict[str, str]] = {}
_rendering: ContextVar[tuple[str, bool] | None] = ContextVar("wosool_rendering", default=None)
"""(language, autoescape) of the template being rendered."""


def _page_language(context: Context) -> str:
    request = context.get("request")
    return locale_for(request).code if request is not None else _language.get()


class _PageTemplate(Template):
    """A template that renders as compiled for its page's language (`_in_language`), sets that language aside while
    it renders (templates it includes render inside), and lets go of what it rendered from at once: a macro a
    template defines refers back to the template's context, which would otherwise leave every page it rendered to
    the cycle collector."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        if self.environment.is_async:  # not ours; Jinja's own way
            return super().render(*args, **kwargs)
        values = dict(*args, **kwargs)
        request = values.get("request")
        language = locale_for(request).code if request is not None else _language.get()
        template = _in_language(self, language)
        autoescape = self.environment.autoescape
        escaping = bool(autoescape(self.name) if callable(autoescape) else autoescape)
        token = _rendering.set((language, escaping))
        context = template.new_context(values)
        try:
            return str(template.environment.concat(template.root_render_func(context)))
        except Exception:
            template.environment.handle_exception()
        finally:
            _rendering.reset(token)
            context.vars.clear()
            context.exported_vars.clear()

    def new_context(
        self, vars: dict[str, Any] | None = None, shared: bool = False, locals: Mapping[str, Any] | None = None
    ) -> Context:
        """Jinja's, with this template's globals as one plain dict, made once: Jinja keeps them as a ChainMap (the
        template's own over the environment's), and walked all of it in Python twice for every page and once for
        every include, some 5 microseconds each. Our globals are all set at start-up (see `_get_default_module`)."""
        flat = self.__dict__.get("_wosool_flat_globals")
        if flat is None:
            flat = self.__dict__["_wosool_flat_globals"] = dict(self.globals)
        return new_context(self.environment, self.name, self.blocks, vars, shared, flat, locals)

    def _get_default_module(self, ctx: Context | None = None) -> Any:
        """The module an ``{% import %}`` of this template gives. Jinja makes a fresh one when the importing page
        has globals this template lacks, and finds out by walking this template's globals (a ChainMap) on every
        import: some 30 microseconds each. Our templates all share the environment's globals, set once
        at start-up, so the check is made here against their names, remembered."""
        names = self.__dict__.get("_wosool_global_names")
        if names is None:
            names = self.__dict__["_wosool_global_names"] = frozenset(self.globals)
        if ctx is not None and ctx.globals_keys - names:
            return super()._get_default_module(ctx)
        return super()._get_default_module(None)


_LANGUAGE_ATTRIBUTE = "wosool_language"
"""Set on the environment a template was compiled for one language in."""


def _in_language(template: Template, language: str) -> Template:
    """The template as compiled for ``language``: from the environment's overlay for that language, made when first
    asked (a template made from a string, with no name to look it up by, stays as it is)."""
    environment = template.environment
    if getattr(environment, _LANGUAGE_ATTRIBUTE, None) == language or template.name is None:
        return template
    compiled: dict[str, Template] = template.__dict__.setdefault("_wosool_in_language", {})
    found = compiled.get(language)
    if found is None:
        found = compiled[language] = _language_environment(environment, language).get_template(template.name)
    return found


def _language_environment(environment: Environment, language: str) -> Environment:
    base = environment.linked_to if getattr(environment, _LANGUAGE_ATTRIBUTE, None) else environment
    assert base is not None
    overlays: dict[str, Environment] = base.__dict__.setdefault("_wosool_languages", {})
    overlay = overlays.get(language)
    if overlay is None:
        # A cache of its own (an overlay otherwise starts with a copy of the base's, templates compiled there).
        capacity = getattr(base.cache, "capacity", 400)
        overlay = base.overlay(cache_size=capacity)
        setattr(overlay, _LANGUAGE_ATTRIBUTE, language)
        overlay.code_generator_class = _TranslatingCodeGenerator
        overlays[language] = overlay
    return overlay


class _TranslatingCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        language = getattr(self.environment, _LANGUAGE_ATTRIBUTE)
        super().visit_Template(_TranslatedMessages(language).visit(node), frame)


class _TranslatedMessages(NodeTransformer):
    """``_("message")`` and ``gettext("message")``, with or without variables, as the translated text: marked safe
    where the template autoescapes, its variables then escaped by ``%`` (Markup's), as the call would have done."""

    def __init__(self, language: str) -> None:
        self.language = language

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        call = self.generic_visit(node)
        if not (
            isinstance(call, nodes.Call)
            and isinstance(call.node, nodes.Name)
            and call.node.name in ("_", "gettext")
            and len(call.args) == 1
            and isinstance(call.args[0], nodes.Const)
            and isinstance(call.args[0].value, str)
            and call.dyn_args is None
            and call.dyn_kwargs is None
        ):
            return call
        translated = translations(self.language).gettext(call.args[0].value)
        if call.kwargs:
            variables = [nodes.Pair(nodes.Const(keyword.key), keyword.value) for keyword in call.kwargs]
            text = nodes.MarkSafeIfAutoescape(nodes.Const(translated), lineno=call.lineno)
            return nodes.Mod(text, nodes.Dict(variables, lineno=call.lineno), lineno=call.lineno)
        try:  # as formatting with no variables does ("%%" is "%")
            formatted = translated % {}
        except (KeyError, TypeError, ValueError):
            return call  # a message that wants variables, given none: it fails when rendered, as the call would
        return nodes.MarkSafeIfAutoescape(nodes.Const(formatted), lineno=call.lineno)


def _rendering_now() -> tuple[str, bool]:
    return _rendering.get() or (_language.get(), True)


def _template_text(language: str, message: str, autoescape: bool) -> str:
    """``_(message)`` without variables, as Jinja's newstyle gettext returns it (formatted with no variables)."""
    texts = _template_texts.setdefault((language, autoescape), {})
    text = texts.get(message)
    if text is None:
        translated = translations(language).gettext(message)
        text = (Markup(translated) if autoescape else translated) % {}  # noqa: S704 - as Jinja's i18n: messages are ours
        if len(texts) < _TEMPLATE_CACHE_LIMIT:
            texts[message] = text
    return text


def _jinja_gettext(message: str, **variables: Any) -> str:
    language, autoescape = _rendering_now()
    if not variables:
        return _template_text(language, message, autoescape)
    translated = translations(language).gettext(message)
    return (Markup(translated) if autoescape else translated) % variables  # noqa: S704 - variables are escaped


def _jinja_ngettext(singular: str, plural: str, count: int, **variables: Any) -> str:
    language, autoescape = _rendering_now()
    variables.setdefault("num", count)
    translated = translations(language).ngettext(singular, plural, count)
    return (Markup(translated) if autoescape else translated) % variables  # noqa: S704


@pass_context
def _number_filter(context: Context, value: Any, decimals: int | None = None) -> str:
    return format_number(value, _page_language(context), decimals=decimals)


@pass_context
def _money_filter(context: Context, minor_units: Any, currency: str | None = None) -> str:
    return format_money(minor_units, currency, _page_language(context))


@pass_context
def _date_filter(context: Context, value: Any, style: str = "medium") -> str:
    return format_date(value, _page_language(context), style=style)


@pass_context
def _datetime_filter(context: Context, value: Any, style: str = "medium") -> str:
    return format_datetime(value, _page_language(context), timezone=context.get("timezone"), style=style)


def install(environment: Any) -> None:
    """Add ``_``/``gettext``/``ngettext`` (newstyle, as Jinja's i18n extension has them: ``_("%(n)s left", n=3)``
    escapes its variables) and the ``number``, ``money``, ``date`` and ``datetime`` filters. Call it before any
    template is loaded (templates are made of `_PageTemplate`)."""
    environment.template_class = _PageTemplate
    environment.add_extension("jinja2.ext.i18n")  # for {% trans %} blocks; they call the callables below
    environment.install_gettext_callables(_jinja_gettext, _jinja_ngettext, newstyle=True)
    environment.globals.update(_=_jinja_gettext, gettext=_jinja_gettext, ngettext=_jinja_ngettext)
    environment.filters.update(number=_number_filter, money=_money_filter, date=_date_filter, datetime=_datetime_filter)
