"""What a workflow must be before it is saved: each problem a 422 naming its field, nothing saved."""

from typing import Any

import pytest
from pydantic import ValidationError

from notify.errors import InvalidInput
from notify.workflows import WorkflowDefinition, builtin_definitions
from notify.workflows.validation import check_definition

PUSH = {"en": {"title": "Starts soon", "body": "{{ content | movies(locale) }} starts in 10 minutes"}}
EMAIL = {"en": {"subject": "Still there?", "text": "{{ user | greeting(locale) }}", "html": "<p>Hi</p>"}}
SMS = {"en": {"text": "Bounced: {{ user.first_name }}"}}


def definition(**changes: Any) -> WorkflowDefinition:
    document: dict[str, Any] = {
        "description": "push, then e-mail if unopened, then SMS if the e-mail bounced",
        "steps": [
            {"ref": "push1", "type": "send", "channel": "push"},
            {"type": "delay", "seconds": 3600},
            {
                "ref": "mail1",
                "type": "send",
                "channel": "email",
                "if": {"ref": "push1", "not": ["opened", "read"]},
            },
            {
                "type": "wait",
                "until": {"ref": "mail1", "any": ["bounced", "failed"]},
                "timeout_seconds": 172800,
            },
            {"type": "send", "channel": "sms", "if": {"ref": "mail1", "any": ["bounced", "failed"]}},
        ],
        "templates": {"push": PUSH, "email": EMAIL, "sms": SMS},
    }
    document.update(changes)
    return WorkflowDefinition.model_validate(document)


def problems(workflow: WorkflowDefinition) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(InvalidInput) as refused:
        check_definition(workflow)
    return [(problem.loc, problem.msg) for problem in refused.value.problems]


def test_the_issues_example_and_every_built_in_pass() -> None:
    check_definition(definition())
    for built_in in builtin_definitions().values():
        check_definition(built_in)


def test_conditions_serialise_under_their_own_names() -> None:
    document = definition().model_dump(mode="json", exclude_none=True)

    assert document["steps"][2]["if"] == {"ref": "push1", "not": ["opened", "read"]}
    assert WorkflowDefinition.model_validate(document) == definition()


def test_refs_are_unique() -> None:
    steps = [{"ref": "a", "type": "send", "channel": "push"}, {"ref": "a", "type": "send", "channel": "sms"}]

    assert problems(definition(steps=steps)) == [(("body", "steps", 1, "ref"), "'a' is step 0's ref already")]


@pytest.mark.parametrize(
    ("steps", "loc"),
    [
        (
            [
                {"type": "send", "channel": "push", "if": {"ref": "later", "any": ["sent"]}},
                {"ref": "later", "type": "send", "channel": "push"},
            ],
            ("body", "steps", 0, "if", "ref"),
        ),
        (
            [
                {"ref": "p", "type": "send", "channel": "push"},
                {"type": "wait", "until": {"ref": "nope", "any": ["opened"]}, "timeout_seconds": 60},
            ],
            ("body", "steps", 1, "until", "ref"),
        ),
    ],
)
def test_a_condition_names_an_earlier_send_step(steps: list[dict[str, Any]], loc: tuple[Any, ...]) -> None:
    found = problems(definition(steps=steps))

    assert [where for where, _ in found] == [loc]
    assert "names no earlier send step" in found[0][1]


def test_a_workflow_sends_something() -> None:
    found = problems(definition(steps=[{"type": "delay", "seconds": 60}]))

    assert found == [(("body", "steps"), "needs at least one send step")]


def test_every_channel_used_has_a_template() -> None:
    found = problems(definition(templates={"push": PUSH, "email": EMAIL}))

    assert found == [
        (("body", "templates", "sms"), "a step sends on sms: it needs a template in at least one locale")
    ]


def test_a_syntax_error_names_the_template_and_its_line() -> None:
    broken = {
        "en": {"subject": "ok", "text": "line one\nline two {{ user.first_name \nline three", "html": "<p/>"}
    }

    found = problems(definition(templates={"push": PUSH, "email": broken, "sms": SMS}))

    assert [where for where, _ in found] == [("body", "templates", "email", "en", "text")]
    assert found[0][1].startswith("line 3: ")  # where Jinja finds the print statement unclosed


def test_a_template_that_fails_on_the_sample_context_is_refused() -> None:
    unknown = {"ru": {"text": "{{ user.nickname }}"}}
    filters = {"en": {"title": "{{ content | shout }}", "body": "ok"}}

    found = problems(definition(templates={"push": filters, "email": EMAIL, "sms": unknown}))

    assert dict(found).keys() == {
        ("body", "templates", "push", "en", "title"),
        ("body", "templates", "sms", "ru", "text"),
    }
    assert "shout" in dict(found)[("body", "templates", "push", "en", "title")]
    assert "nickname" in dict(found)[("body", "templates", "sms", "ru", "text")]


def test_a_subject_that_breaks_a_line_is_refused() -> None:
    two_lines = {"en": {"subject": "Hello\n{{ user.first_name }}", "text": "x"}}

    found = problems(definition(templates={"push": PUSH, "email": two_lines, "sms": SMS}))

    assert found == [
        (("body", "templates", "email", "en", "subject"), "contains a control character or a line break")
    ]


@pytest.mark.parametrize(
    "step",
    [
        {"type": "send"},
        {"type": "send", "channel": "push", "channels": ["sms"]},
        {"type": "send", "channels": ["sms", "sms"], "mode": "first_that_works"},
        {"type": "send", "channels": ["sms", "push"]},
        {"type": "send", "channel": "fax"},
        {"type": "send", "channel": "push", "mode": "first_that_works"},
        {"type": "delay", "seconds": 0},
        {"type": "delay", "seconds": 31 * 24 * 3600},
        {"type": "wait", "until": {"ref": "a", "any": ["opened"], "not": ["read"]}, "timeout_seconds": 60},
        {"type": "wait", "until": {"ref": "a", "any": ["seen"]}, "timeout_seconds": 60},
        {"type": "jump"},
        {"type": "send", "channel": "push", "ref": "Has Spaces"},
    ],
)
def test_a_malformed_step_is_refused_by_the_schema(step: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        definition(steps=[step])

    assert all(error["loc"][:2] == ("steps", 0) for error in refused.value.errors())


def test_locales_are_the_directorys() -> None:
    with pytest.raises(ValidationError) as refused:
        definition(templates={"push": {"de": {"title": "x", "body": "y"}}})

    assert refused.value.errors()[0]["loc"][:3] == ("templates", "push", "de")


def test_two_sends_at_the_same_moment_on_one_channel_are_refused() -> None:
    steps = [{"type": "send", "channel": "push"}, {"type": "send", "channel": "push"}]

    found = problems(definition(steps=steps))

    assert found == [(("body", "steps", 1, "channel"), "step 0 sends on push at the same moment already")]
