"""A template is compiled once per language, with each ``_("message")`` written out as its translation
(app/lib/i18n.py): what it renders is what the call would have given, escaping included."""

from __future__ import annotations

import pytest
from jinja2 import DictLoader, Environment, Template, UndefinedError, select_autoescape

from app.lib import i18n
from app.lib.i18n import use_language

TEMPLATES = {
    "page.html": (
        '<h1>{{ _("Search") }}</h1><button aria-label="{{ _("Edit %(field)s", field=field) }}">'
        "{{ gettext('Log out') }}</button>{% include 'part.html' %}"
    ),
    "part.html": '<p>{{ _(message) }} {{ _("Loading") }}</p>',
    "plain.txt": '{{ _("Delete %(title)s?", title=title) }}',
    "wants_variables.html": '{{ _("Edit %(field)s") }}',
}


@pytest.fixture
def environment() -> Environment:
    made = Environment(loader=DictLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    i18n.install(made)
    return made


def _render(environment: Environment, name: str, language: str, **values: object) -> str:
    with use_language(language):
        return environment.get_template(name).render(**values)


def test_it_writes_out_each_language_and_escapes_the_variables(environment: Environment) -> None:
    values = {"field": "<b>City</b>", "message": "Search"}

    english = _render(environment, "page.html", "en", **values)
    arabic = _render(environment, "page.html", "ar", **values)
    english_again = _render(environment, "page.html", "en", **values)

    assert (
        english
        == english_again
        == ('<h1>Search</h1><button aria-label="Edit &lt;b&gt;City&lt;/b&gt;">Log out</button><p>Search Loading</p>')
    )
    assert arabic == (
        '<h1>بحث</h1><button aria-label="تعديل &lt;b&gt;City&lt;/b&gt;">تسجيل الخروج</button><p>بحث جارٍ التحميل</p>'
    )


def test_a_template_that_does_not_autoescape_leaves_the_variables_alone(environment: Environment) -> None:
    assert _render(environment, "plain.txt", "ar", title="<Sara & co>") == "هل تريد حذف <Sara & co>؟"


def test_each_language_has_its_own_compiled_template(environment: Environment) -> None:
    _render(environment, "page.html", "en", field="", message="Search")
    _render(environment, "page.html", "ar", field="", message="Search")

    compiled = environment.get_template("page.html").__dict__["_wosool_in_language"]

    assert set(compiled) == {"en", "ar"}
    assert _text_of(compiled["ar"]).startswith("<h1>بحث</h1>")  # written into the template: no call left
    assert _text_of(compiled["en"]).startswith("<h1>Search</h1>")


def _text_of(template: Template) -> str:
    constants = template.root_render_func.__code__.co_consts
    return next(constant for constant in constants if isinstance(constant, str) and constant.startswith("<h1>"))


def test_a_message_that_wants_variables_and_gets_none_fails_as_before(environment: Environment) -> None:
    with pytest.raises((KeyError, UndefinedError)):
        _render(environment, "wants_variables.html", "en")
