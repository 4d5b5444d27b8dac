"""A workflow version's templates rendered for one recipient: the texts a sender sends, and the preview.

The templates are compiled once per version (versions never change) in the sandbox (sandbox.py). The
service's own frame around every e-mail is data shipped with the code (templates/email): the HTML
layout its HTML body is set in, and the unsubscribe footer appended to its text. The frame has no
logic, so it is filled by substitution: as Jinja templates it was a sixth of an e-mail's render."""

import json
import string
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from notify.channels import Channel
from notify.workflows.filters import FILTERS, GLOBALS
from notify.workflows.models import Content, EmailTemplate, PushTemplate, Recipient, SmsTemplate, Templates
from notify.workflows.sandbox import (
    TemplateProblem,
    WorkflowSandbox,
    compile_checked,
    generate,
    render_checked,
)

# The service's own templates (the e-mail layout and footer, the web pages), shipped with the code.
SERVICE_TEMPLATES = Path(__file__).parent.parent / "templates"


@dataclass(frozen=True)
class RenderedParts:
    """A message ready for a provider: `subject` is the e-mail's subject or the push title; `html` is
    for e-mail."""

    text: str
    subject: str | None = None
    html: str | None = None


class NoTemplate(TemplateProblem):
    """The workflow has no template for the channel in any locale."""


def template_context(
    user: Recipient, content: Sequence[Content], locale: str, unsubscribe_url: str | None
) -> dict[str, Any]:
    """What every template sees (the README's "Template context")."""
    return {"user": user, "content": list(content), "locale": locale, "unsubscribe_url": unsubscribe_url}


class ServiceTemplates:
    """The trusted templates: the e-mail's frame (layout and footer), and the service's web pages."""

    def __init__(self, directory: Path = SERVICE_TEMPLATES) -> None:
        self._directory = directory

    @cached_property
    def _env(self) -> jinja2.Environment:
        # Shipped with the code and never changed under a running environment: no auto_reload (a stat
        # of the file at every render was a tenth of a sender's CPU, issue 27).
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self._directory),
            auto_reload=False,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=jinja2.StrictUndefined,
        )
        env.filters.update(FILTERS)
        env.globals.update(GLOBALS)
        return env

    def render(self, name: str, **context: object) -> str:
        return "".join(generate(self._env.get_template(name), context))

    @cached_property
    def _layout(self) -> string.Template:
        # Read as Jinja reads a file: its last newline is not part of the page.
        return string.Template((self._directory / "email/layout.html").read_text().removesuffix("\n"))

    @cached_property
    def _phrases(self) -> dict[str, dict[str, str]]:
        phrases: dict[str, dict[str, str]] = json.loads((self._directory / "email/frame.json").read_text())
        return phrases

    def _phrase(self, locale: str, name: str) -> str:
        return (self._phrases.get(locale) or self._phrases["en"])[name]

    def email_footer(self, locale: str, unsubscribe_url: str | None) -> str:
        """The lines appended to an e-mail's text: its unsubscribe link, when it has one."""
        if not unsubscribe_url:
            return ""
        return f"\n--\n{self._phrase(locale, 'footer')}{unsubscribe_url}\n"

    def email_layout(self, locale: str, title: str, body: Markup, unsubscribe_url: str | None) -> str:
        """The e-mail's HTML: `body` (escaped HTML) set in the layout, every other value escaped."""
        label = self._phrase(locale, "unsubscribe")
        # Escaped by hand: Markup.format goes through string.Formatter, ten times slower.
        unsubscribe = f'<a href="{escape(unsubscribe_url)}">{escape(label)}</a>' if unsubscribe_url else ""
        return self._layout.substitute(
            locale=escape(locale),
            title=escape(title),
            body=body,
            notice=escape(self._phrase(locale, "notice")),
            unsubscribe=unsubscribe,
        )


class CompiledTemplates:
    """One version's templates, each compiled on first use and kept (thread-safe)."""

    def __init__(self, templates: Templates) -> None:
        self._templates = templates
        self._compiled: dict[tuple[str, str, str], jinja2.Template] = {}
        self._lock = threading.Lock()

    def template(self, channel: Channel, locale: str, part: str) -> jinja2.Template:
        chosen = self._templates.for_locale(channel, locale)
        if chosen is None:
            raise NoTemplate(f"no {channel} template")
        key = (str(channel), _locale_of(self._templates, channel, locale), part)
        compiled = self._compiled.get(key)
        if compiled is None:
            source = getattr(chosen, part)
            compiled = compile_checked(_SANDBOXES[part == "html"], source)
            with self._lock:
                compiled = self._compiled.setdefault(key, compiled)
        return compiled

    def locale_for(self, channel: Channel, locale: str) -> str:
        return _locale_of(self._templates, channel, locale)

    def source(self, channel: Channel, locale: str) -> EmailTemplate | PushTemplate | SmsTemplate | None:
        return self._templates.for_locale(channel, locale)


def _locale_of(templates: Templates, channel: Channel, wanted: str) -> str:
    locales = templates.locales(channel)
    if wanted in locales:
        return wanted
    return "en" if "en" in locales else (locales[0] if locales else wanted)


_SANDBOXES = {True: WorkflowSandbox(autoescape=True), False: WorkflowSandbox(autoescape=False)}


def render_channel(
    compiled: CompiledTemplates,
    service: ServiceTemplates,
    channel: Channel,
    user: Recipient,
    content: Sequence[Content],
    unsubscribe_url: str | None,
) -> RenderedParts:
    """The recipient's message on `channel`, in their locale (else `en`, else the first there is).
    Raises TemplateProblem (NoTemplate when the channel has none)."""
    locale = compiled.locale_for(channel, user.locale)
    context = template_context(user, content, locale, unsubscribe_url)

    def part(name: str) -> str:
        return render_checked(compiled.template(channel, locale, name), context)

    match channel:
        case Channel.EMAIL:
            subject = part("subject").strip()
            footer = service.email_footer(locale, unsubscribe_url)
            text = (part("text").rstrip("\n") + "\n" + footer).strip()
            html = None
            chosen = compiled.source(channel, locale)
            if isinstance(chosen, EmailTemplate) and chosen.html is not None:
                body = Markup(part("html"))  # noqa: S704 - rendered by the autoescaping sandbox
                html = service.email_layout(locale, subject, body, unsubscribe_url)
            return RenderedParts(text=text, subject=subject, html=html)
        case Channel.PUSH:
            return RenderedParts(text=part("body").strip(), subject=part("title").strip())
        case Channel.SMS:
            return RenderedParts(text=part("text").strip())
