"""Every message marked for translation in the code and the templates has its Arabic, and the Arabic keeps the
message's placeholders (a missing ``%(name)s`` would crash the page or drop a value)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from app.lib.i18n import translations
from app.settings import PROJECT_ROOT

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def _marked_messages() -> Iterator[tuple[str, str]]:
    """(message, where) for every ``_()``/``gettext``/``lazy`` in app/, tasks/ and templates/, as pybabel sees them."""
    method_map = [("app/**.py", "python"), ("tasks/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {**DEFAULT_KEYWORDS, "lazy": None, "gettext_in": None}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options, keywords=keywords
    ):
        singular = message[0] if isinstance(message, tuple) else message
        if singular:
            yield singular, f"{filename}:{line}"


def test_it_has_arabic_for_every_marked_message() -> None:
    arabic = translations("ar")
    missing = sorted(
        {f"{where}: {message!r}" for message, where in _marked_messages() if arabic.gettext(message) == message}
    )
    assert missing == [], "messages without Arabic (add them to app/locales/ar/LC_MESSAGES/*.po):\n" + "\n".join(
        missing
    )


def test_it_keeps_the_placeholders_in_the_arabic() -> None:
    arabic = translations("ar")
    wrong = [
        message
        for message, _where in _marked_messages()
        if set(_PLACEHOLDER.findall(message)) != set(_PLACEHOLDER.findall(arabic.gettext(message)))
    ]
    assert wrong == []


def test_it_finds_the_messages_of_templates_and_code() -> None:
    found = {message for message, _where in _marked_messages()}
    assert "Page not found" in found  # templates/errors/error.html
    assert "Log out" in found  # templates/base.html
