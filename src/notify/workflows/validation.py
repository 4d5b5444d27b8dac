"""What a workflow must be before it is saved, beyond its schema: each problem named by its field.

- refs are unique, and every `if` and `until` names an earlier send step's ref;
- every channel a step sends on has a template in at least one locale;
- every template compiles in the sandbox, and renders against a sample context without an error
  (a syntax error, an unknown variable or filter, a rule of the sandbox: the template and its line)."""

import uuid
from datetime import date

from notify.channels import Channel
from notify.errors import FieldProblem, InvalidInput
from notify.text import CONTROL_CHARACTER, control_character_in
from notify.workflows.models import Condition, Content, Recipient, SendStep, WaitStep, WorkflowDefinition
from notify.workflows.rendering import CompiledTemplates, template_context
from notify.workflows.sandbox import TemplateProblem, render_checked

SAMPLE_UNSUBSCRIBE_URL = "https://notify.invalid/unsubscribe?token=sample"
_HEADERS = ("subject", "title")
_PARTS = {Channel.EMAIL: ("subject", "text", "html"), Channel.PUSH: ("title", "body"), Channel.SMS: ("text",)}


def sample_recipient(locale: str) -> Recipient:
    """A recipient with every directory field set, as templates are checked against."""
    return Recipient(
        user_id=uuid.UUID(int=1),
        first_name="Alex",
        last_name="Sample",
        birthday_date=date(1990, 5, 17),
        email="alex@example.com",
        phone="+15550100000",
        push_token="sample-push-token",  # noqa: S106 - a sample, no secret
        locale="ru" if locale == "ru" else "en",
        timezone="Europe/Moscow",
        digest_count=3,
    )


SAMPLE_CONTENT = (
    Content(
        movie_id=uuid.UUID(int=2), title="The Long Night", season=2, episode=5, release_date=date(2026, 3, 14)
    ),
    Content(movie_id=uuid.UUID(int=3), title="Daybreak", release_date=date(2026, 4, 1)),
)


def check_definition(definition: WorkflowDefinition) -> None:
    """Raise InvalidInput naming every problem found (nothing is saved then)."""
    problems = _step_problems(definition) + _template_problems(definition)
    if problems:
        raise InvalidInput(problems)


def _step_problems(definition: WorkflowDefinition) -> list[FieldProblem]:
    problems: list[FieldProblem] = _same_moment_problems(definition)
    refs: dict[str, int] = {}
    if not definition.send_steps():
        problems.append(FieldProblem(("body", "steps"), "needs at least one send step"))
    for index, step in enumerate(definition.steps):
        conditions: list[tuple[str, Condition]] = []
        if isinstance(step, SendStep) and step.if_ is not None:
            conditions.append(("if", step.if_))
        if isinstance(step, WaitStep):
            conditions.append(("until", step.until))
        for field, condition in conditions:
            if condition.ref not in refs:
                earlier = sorted(refs) or ["none"]
                problems.append(
                    FieldProblem(
                        ("body", "steps", index, field, "ref"),
                        f"names no earlier send step: {condition.ref!r} (earlier refs: {', '.join(earlier)})",
                    )
                )
        if isinstance(step, SendStep) and step.ref is not None:
            if step.ref in refs:
                problems.append(
                    FieldProblem(
                        ("body", "steps", index, "ref"),
                        f"{step.ref!r} is step {refs[step.ref]}'s ref already",
                    )
                )
            else:
                refs[step.ref] = index
    return problems


def _same_moment_problems(definition: WorkflowDefinition) -> list[FieldProblem]:
    """Sends that go out together (a workflow of nothing but unconditional one-channel sends) must each
    name a channel of their own: two at the same moment on one channel would be one message twice."""
    if not definition.immediate:
        return []
    first: dict[str, int] = {}
    problems = []
    for index, step in definition.send_steps():
        assert step.channel is not None
        if step.channel in first:
            problems.append(
                FieldProblem(
                    ("body", "steps", index, "channel"),
                    f"step {first[step.channel]} sends on {step.channel} at the same moment already",
                )
            )
        first.setdefault(step.channel, index)
    return problems


def _template_problems(definition: WorkflowDefinition) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    templates = definition.templates
    for channel in definition.channels_used():
        if not templates.locales(channel):
            problems.append(
                FieldProblem(
                    ("body", "templates", str(channel)),
                    f"a step sends on {channel}: it needs a template in at least one locale",
                )
            )
    compiled = CompiledTemplates(templates)
    for channel in Channel:
        for locale in templates.locales(channel):
            problems += _locale_problems(compiled, channel, locale)
    return problems


def _locale_problems(compiled: CompiledTemplates, channel: Channel, locale: str) -> list[FieldProblem]:
    """Each part compiled and rendered against the sample context on its own: every part's problem named."""
    source = compiled.source(channel, locale)
    context = template_context(sample_recipient(locale), SAMPLE_CONTENT, locale, SAMPLE_UNSUBSCRIBE_URL)
    problems = []
    for part in _PARTS[channel]:
        if getattr(source, part, None) is None:
            continue
        try:
            text = render_checked(compiled.template(channel, locale, part), context)
        except TemplateProblem as problem:
            problems.append(_problem(channel, locale, part, problem))
            continue
        if part in _HEADERS and control_character_in(text.strip()):
            # A header: the senders refuse a message whose subject or title breaks a line.
            problems.append(_problem(channel, locale, part, TemplateProblem(CONTROL_CHARACTER)))
    return problems


def _problem(channel: Channel, locale: str, part: str, problem: TemplateProblem) -> FieldProblem:
    where = f"line {problem.line}: " if problem.line else ""
    return FieldProblem(("body", "templates", str(channel), locale, part), f"{where}{problem}")
