"""Turning a queue message into the text a person reads: the event's workflow version's templates for
the channel, in the recipient's locale (notify.workflows renders them, in its sandbox)."""

from collections.abc import Sequence

from notify.channels import Channel
from notify.delivery.models import Content, Recipient
from notify.delivery.ports import Rendered
from notify.delivery.tracking_links import TrackingLinks
from notify.delivery.unsubscribe_links import UnsubscribeLinks
from notify.errors import NotFound, PermanentError
from notify.workflows import (
    KeptVersions,
    ServiceTemplates,
    ShippedBuiltIns,
    TemplateProblem,
    movie_label,
    render_channel,
)

__all__ = ["TemplateRenderer", "movie_label"]


class TemplateRenderer:
    """Renders each message from its workflow version (kept once read, with its compiled templates);
    the service's own pages from the templates shipped with the code."""

    def __init__(
        self,
        versions: KeptVersions | None = None,
        links: UnsubscribeLinks | None = None,
        service: ServiceTemplates | None = None,
        tracking: TrackingLinks | None = None,
    ) -> None:
        # Without a store: the built-in workflows as shipped (their first versions), for tools and tests.
        self._versions = versions if versions is not None else KeptVersions(ShippedBuiltIns())
        self._links = links
        self._service = service if service is not None else ServiceTemplates()
        self._tracking = tracking

    def render_page(self, name: str, **context: object) -> str:
        """A web page of the service (HTML, escaped), from templates/pages/<name>.html."""
        return self._service.render(f"pages/{name}.html", **context)

    def render(
        self, event_type: str, channel: Channel, user: Recipient, content: Sequence[Content], version: int = 1
    ) -> Rendered:
        where = f"template for {event_type}/{channel}/{user.locale}"
        try:
            found, compiled = self._versions.compiled(event_type, version)
        except NotFound as error:
            raise PermanentError(f"{where}: {error}") from error
        unsubscribe = (
            self._links.link_for(user.user_id, event_type)
            if self._links is not None and channel is Channel.EMAIL
            else None
        )
        try:
            parts = render_channel(compiled, self._service, channel, user, content, unsubscribe)
        except TemplateProblem as problem:
            line = f" (line {problem.line})" if problem.line else ""
            raise PermanentError(f"{where}: {problem}{line}") from problem
        text, html = parts.text, parts.html
        tracking = found.definition.tracking
        if (
            self._tracking
            and channel is Channel.EMAIL
            and user.notification_id
            and (tracking.clicks or tracking.opens)
        ):
            text, html = self._tracking.rewrite(
                text,
                html,
                user.notification_id,
                clicks=tracking.clicks,
                opens=tracking.opens,
                keep=unsubscribe,
            )
        return Rendered(
            text=text,
            subject=parts.subject,
            html=html,
            unsubscribe_url=unsubscribe,
            notification_id=user.notification_id,
        )
