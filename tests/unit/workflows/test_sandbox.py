"""The sandbox saved templates render in: what a template may name, and what a render may cost."""

import time

import pytest

from notify.workflows.sandbox import (
    MAX_RANGE,
    MAX_RENDER_SECONDS,
    TemplateProblem,
    WorkflowSandbox,
    compile_checked,
    render_checked,
)
from notify.workflows.validation import SAMPLE_CONTENT, sample_recipient

TEXT, HTML = WorkflowSandbox(autoescape=False), WorkflowSandbox(autoescape=True)
CONTEXT = {"user": sample_recipient("en"), "content": list(SAMPLE_CONTENT), "locale": "en"}


def render(source: str, sandbox: WorkflowSandbox = TEXT) -> str:
    return render_checked(compile_checked(sandbox, source), dict(CONTEXT))


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ user.__class__ }}",
        "{{ user.__dict__ }}",
        "{{ user.model_dump() }}",
        "{{ user.model_copy }}",
        "{{ content.__len__() }}",
        "{{ content[0].release_date.__class__ }}",
        "{{ 'x'.format(1) }}",
        "{{ 'x'.center(100000) }}",
        "{{ namespace(a=1) }}",
        "{{ cycler(1) }}",
        "{{ lipsum() }}",
        "{{ 'x'.format_map({}) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ range.__globals__ }}",
    ],
)
def test_internals_and_methods_are_out_of_reach(source: str) -> None:
    with pytest.raises(TemplateProblem):
        render(source)


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("{% macro m() %}{% endmacro %}", "macro"),
        ("{% call foo() %}{% endcall %}", "call block"),
        ("{% block b %}{{ self.b() }}{% endblock %}", "block"),
        ("{% include 'email/footer.txt' %}", "include"),
        ("{% import 'x' as y %}", "import"),
        ("{% extends 'email/layout.html' %}", "extends"),
        ("{{ 2 ** 100 }}", "the \\*\\* operator"),
        ("{% for a in content recursive %}{{ loop(a) }}{% endfor %}", "recursive loop"),
        (
            "{% for a in content %}{% for b in content %}{% for c in content %}x"
            "{% endfor %}{% endfor %}{% endfor %}",
            "nest at most 2",
        ),
        ("{{ x | center(10) }}", "No filter named 'center'"),
    ],
)
def test_a_template_naming_what_is_not_allowed_is_refused_at_compile(source: str, what: str) -> None:
    with pytest.raises(TemplateProblem, match=what):
        compile_checked(TEXT, source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 1000000 }}",
        "{{ 1000000 * 'a' }}",
        "{% set s = 'aaaaaaaaaa' %}" + "{% set s = s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s ~ s %}" * 5,
        "{% set s = 'aaaaaaaaaa' + 'a' * 99999 %}{{ s + s }}",
        "{{ 'a' | replace('a', 'aaaaaaaaaa') | replace('a', 'aaaaaaaaaa') | replace('a', 'aaaaaaaaaa')"
        " | replace('a', 'aaaaaaaaaa') | replace('a', 'aaaaaaaaaa') | replace('a', 'aaaaaaaaaa') }}",
        "{{ 'a'.replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa')"
        ".replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa') }}",
        "{{ '%s' % 'x' }}",
    ],
)
def test_no_render_builds_a_text_past_the_limit(source: str) -> None:
    with pytest.raises(TemplateProblem):
        render(source)


def test_no_render_runs_away_in_time() -> None:
    quiet = "{% if b == 7 %}x{% endif %}"
    two_deep = "{% for a in range(1000) %}{% for b in range(1000) %}" + quiet + "{% endfor %}{% endfor %}"
    many = "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}" * 5

    for source in (two_deep, many):
        with pytest.raises(TemplateProblem, match="too much work"):
            render(source)
    with pytest.raises(TemplateProblem, match=f"at most {MAX_RANGE}"):
        render("{% for a in range(100000) %}{% endfor %}")


def test_what_templates_need_renders() -> None:
    assert (
        render("{{ user.first_name | upper }} {{ content | length }} {{ content[0].title }}")
        == "ALEX 2 The Long Night"
    )
    assert render("{{ content | movies(locale) }}") == "«The Long Night», season 2, episode 5, «Daybreak»"
    assert render("{{ user | greeting(locale) }} {{ likes(user, locale) }}") == "Hi Alex, 3 people liked"
    assert render("{% for m in content %}{{ loop.index }}. {{ m | movie(locale) }};{% endfor %}") == (
        "1. «The Long Night», season 2, episode 5;2. «Daybreak»;"
    )
    assert render("{{ content[1].release_date | local_date(locale) }} {{ user.birthday_date.year }}") == (
        "Apr 1, 2026 1990"
    )
    assert render("{{ 'x' ~ user.last_name ~ (2 * 3) }}") == "xSample6"


def test_html_templates_escape_and_text_templates_do_not() -> None:
    context = {**CONTEXT, "user": sample_recipient("en").model_copy(update={"first_name": "<b>Eve</b>"})}

    html = render_checked(compile_checked(HTML, "{{ user.first_name }}"), context)
    text = render_checked(compile_checked(TEXT, "{{ user.first_name }}"), context)

    assert html == "&lt;b&gt;Eve&lt;/b&gt;"
    assert text == "<b>Eve</b>"


def test_a_problem_names_its_line() -> None:
    with pytest.raises(TemplateProblem) as syntax:
        compile_checked(TEXT, "first\nsecond {{ oops(\nthird")
    with pytest.raises(TemplateProblem) as runtime:
        render("one\ntwo\n{{ user.no_such_field }}")

    assert syntax.value.line == 3
    assert runtime.value.line == 3


# ---- what a render may cost, however a template is written (the review's templates) ----------------

SQUARINGS = "{% set a = 99999999 %}" + "{% set a = a * a %}" * 22 + "OK"
LONG = "{% set s = 'x' * 100000 %}"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (SQUARINGS, "integer over 4096 bits"),
        ("{% set l = [0] * 100000 %}{{ ([l] * 300) | sum(start=[]) | length }}", "No filter named 'sum'"),
        (
            LONG + "{% for i in range(1000) %}{% for j in range(10) %}{{ s }}{% endfor %}{% endfor %}",
            "over 100,000",
        ),
        (LONG + "{{ ([s] * 10000) | join }}", "over 100,000"),
        (LONG + "{{ s | replace('x', s) }}", "over 100,000"),
        (LONG + "{{ s.replace('', s) }}", "unsafe"),
        (
            LONG + "{% set a = [s] * 100000 %}{% set b = [s.upper().lower()] * 100000 %}"
            "{% for i in range(1000) %}{% for j in range(199) %}{{ a == b }}{% endfor %}{% endfor %}",
            "too long to render",
        ),
        ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", "cannot be read"),
        ("{{ " + "+".join(["1"] * 9000) + " }}", "cannot be read"),
        ("{% if 1 %}" * 1500 + "x" + "{% endif %}" * 1500, "cannot be read"),
    ],
)
def test_no_template_runs_away_in_time_or_memory(source: str, problem: str) -> None:
    started = time.perf_counter()

    with pytest.raises(TemplateProblem, match=problem):
        render(source)
    with pytest.raises(TemplateProblem, match=problem):
        render(source, HTML)

    assert time.perf_counter() - started < 2 * (MAX_RENDER_SECONDS + 1)
