"""The suppression list: addresses no message goes to, per channel, and the one spelling of each."""

from datetime import datetime

from notify.channels import Channel
from notify.errors import FieldProblem, InvalidInput, NotFound
from notify.feedback.models import SuppressionPage, SuppressionView
from notify.feedback.ports import Suppression, Suppressions
from notify.models import E164_PATTERN
from notify.text import CONTROL_CHARACTER, control_character_in

OPERATOR = "operator"
MAX_ADDRESS = 4096


def normal_address(channel: Channel | str, address: str) -> str:
    """E-mail addresses in lower case (mailbox case is ignored in practice); phone numbers and push
    tokens as they are."""
    return address.strip().lower() if str(channel) == Channel.EMAIL else address.strip()


def checked_address(channel: Channel, address: str) -> str:
    """The address in its one spelling, or InvalidInput naming the path's address."""
    spelled = normal_address(channel, address)
    problem = None
    if control_character_in(spelled):  # white space around it is trimmed, none may be within
        problem = CONTROL_CHARACTER
    elif not spelled or len(spelled) > MAX_ADDRESS:
        problem = f"must be 1 to {MAX_ADDRESS} characters"
    elif channel == Channel.EMAIL and "@" not in spelled.strip("@"):
        problem = "is not an e-mail address"
    elif channel == Channel.SMS and not E164_PATTERN.fullmatch(spelled):
        problem = "is not a phone number in E.164 form (+ and 8 to 15 digits)"
    if problem:
        raise InvalidInput([FieldProblem(("path", "address"), problem)])
    return spelled


def _view(entry: Suppression) -> SuppressionView:
    return SuppressionView(
        channel=Channel(entry.channel),
        address=entry.address,
        reason=entry.reason,
        created_at=entry.created_at,
    )


def add_suppression(
    channel: Channel, address: str, reason: str, *, now: datetime, suppressions: Suppressions
) -> SuppressionView:
    """Suppress the address (an operator's call); one already suppressed keeps its first reason."""
    spelled = checked_address(channel, address)
    suppressions.suppress([Suppression(str(channel), spelled, reason, now)])
    found = suppressions.find_suppression(str(channel), spelled)
    if found is None:  # removed again in between: what was asked is what stands
        return SuppressionView(channel=channel, address=spelled, reason=reason, created_at=now)
    return _view(found)


def lift_suppression(channel: Channel, address: str, *, suppressions: Suppressions) -> None:
    spelled = checked_address(channel, address)
    if not suppressions.remove_suppression(str(channel), spelled):
        raise NotFound(f"{spelled} is not suppressed on {channel}")


def page_suppressions(
    channel: Channel | None, *, limit: int, cursor: str | None, suppressions: Suppressions
) -> SuppressionPage:
    return suppressions.suppressions_page(None if channel is None else str(channel), limit, cursor)
