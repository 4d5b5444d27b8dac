"""Page cursors: opaque to clients, fully checked when they come back.

A cursor is base64 of `label:key`, where the label names the listing (or the channel the page
stopped in) and the key the last row's key. A cursor comes back from a client: each half is checked
against what that listing can have given out (the label among the listing's own, the key by its
kind, neither holding a control character), so one that was changed, or made for another listing,
is a 422 naming the parameter and never reaches the database.
"""

import base64
import binascii
import uuid
from collections.abc import Callable, Collection

from notify.channels import Channel
from notify.errors import FieldProblem, InvalidInput
from notify.text import control_character_in

NOT_A_CURSOR = "is not a cursor this API gave out"
# The labels of listings ordered by channel first: the channel the page stopped in.
CHANNELS = frozenset(channel.value for channel in Channel)


def encode_cursor(label: str, key: uuid.UUID | str) -> str:
    """A page's position: the listing's label (or the channel) and the last row's key."""
    return base64.urlsafe_b64encode(f"{label}:{key}".encode()).decode()


def uuid_key(text: str) -> None:
    """A user or schedule id as this API writes it: Python's uuid.UUID also reads spellings that
    PostgreSQL's uuid does not (`urn:uuid:…`), so only the canonical one passes."""
    if str(uuid.UUID(text)) != text:
        raise ValueError("not a canonical UUID")


def user_step_key(text: str) -> None:
    """A notification's key within its channel: `<user id>/<step>`, as notifications_page writes it."""
    user_id, slash, step = text.partition("/")
    uuid_key(user_id)
    if not slash or not step.isdigit() or str(int(step)) != step or int(step) > 32767:
        raise ValueError("not a step")


def decode_cursor(
    cursor: str, labels: Collection[str], check: Callable[[str], object] = uuid_key
) -> tuple[str, str]:
    """(label, key) of a cursor `encode_cursor` made for a listing whose labels are `labels`, with the
    key passing `check` (which raises ValueError otherwise); InvalidInput naming the cursor else."""
    try:
        label, key = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8").split(":", 1)
        if label not in labels or control_character_in(key):
            raise ValueError("not this listing's cursor")
        check(key)
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise InvalidInput([FieldProblem(("query", "cursor"), NOT_A_CURSOR)]) from error
    return label, key
