"""Reading and changing a recipient's preferences, by the API or by a signed unsubscribe link."""

import uuid
from datetime import datetime

from notify.channels import Channel, EventType
from notify.delivery.models import ChannelSwitches, PreferencesDocument
from notify.delivery.ports import PreferenceStore
from notify.delivery.unsubscribe_links import SigningKeys, Unsubscribe, verify_link
from notify.errors import NotFound


def read_preferences(user_id: uuid.UUID, *, store: PreferenceStore) -> PreferencesDocument:
    document = store.get_preferences(user_id)
    if document is None:
        raise NotFound(f"no user {user_id}")
    return document


def replace_preferences(
    user_id: uuid.UUID, document: PreferencesDocument, *, store: PreferenceStore
) -> PreferencesDocument:
    if not store.put_preferences(user_id, document):
        raise NotFound(f"no user {user_id}")
    return document


def unsubscribe(token: str, *, keys: SigningKeys, now: datetime, store: PreferenceStore) -> Unsubscribe:
    """Opt the token's user out of e-mails of the token's event type. A bad token raises
    InvalidToken and changes nothing."""
    request = verify_link(token, keys=keys, now=now)
    current = read_preferences(request.user_id, store=store)
    off = {Channel.EMAIL.value: False}
    if request.event_type in EventType:  # a built-in: its own field, as before workflows
        switches: ChannelSwitches = getattr(current, request.event_type)
        changed = current.model_copy(update={request.event_type: switches.model_copy(update=off)})
    else:
        switches = current.workflows.get(request.event_type, ChannelSwitches())
        workflows = {**current.workflows, request.event_type: switches.model_copy(update=off)}
        changed = current.model_copy(update={"workflows": workflows})
    replace_preferences(request.user_id, changed, store=store)
    return request
