"""Recipient controls, decided at send time: stale-event expiry, preferences, quiet hours,
digests and frequency caps. Pure functions of the recipient, the event and `now`.

The order matters and is fixed: an expired notification is never held for a digest nor
counted against a cap; an opted-out one is never deferred.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from notify.channels import Channel, EventType, Tier
from notify.delivery.models import PreferencesDocument
from notify.workflows import Controls

if TYPE_CHECKING:  # the rules need no renderer: a Migrate function loads this module, not Jinja2
    from notify.workflows import KeptVersions

UTC = ZoneInfo("UTC")

VerdictStatus = Literal["send", "skipped", "deferred", "expired", "held"]


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time


DEFAULT_QUIET_HOURS = QuietHours(start=time(22, 0), end=time(8, 0))


@dataclass(frozen=True)
class Preferences:
    """A user's choices. Absent entries mean "on"; `quiet_hours` None means none at all."""

    channels_off: frozenset[Channel] = frozenset()
    event_channels_off: frozenset[tuple[str, Channel]] = frozenset()
    quiet_hours: QuietHours | None = DEFAULT_QUIET_HOURS

    def allows(self, event_type: str, channel: Channel) -> bool:
        return channel not in self.channels_off and (event_type, channel) not in self.event_channels_off


@dataclass(frozen=True)
class FrequencyCap:
    limit: int
    window: timedelta


@dataclass(frozen=True)
class ControlRules:
    """Rules per event type (a workflow's key): expiry, caps, digest windows, and the types that
    ignore quiet hours. The service reads them from each event's workflow version (WorkflowRules);
    a fixed set (`configured`) serves tools and tests that give the rules themselves."""

    max_age: dict[str, timedelta]
    caps: dict[tuple[str, Channel], FrequencyCap]
    digest_windows: dict[str, timedelta]
    quiet_hours_ignored: frozenset[str] = frozenset()

    def cap_for(self, event_type: str, channel: Channel) -> FrequencyCap | None:
        return self.caps.get((event_type, channel))

    def rules_for(self, event_type: str, version: int) -> "ControlRules":
        """These rules, whatever the version (a RulesBook of one page)."""
        del event_type, version
        return self

    @classmethod
    def of_workflow(cls, key: str, controls: Controls) -> "ControlRules":
        """One workflow version's controls."""
        return cls(
            max_age={key: timedelta(seconds=controls.max_age_seconds)} if controls.max_age_seconds else {},
            caps={
                (key, Channel(channel)): FrequencyCap(limit, timedelta(seconds=window))
                for channel, (limit, window) in controls.frequency_caps.items()
            },
            digest_windows=(
                {key: timedelta(seconds=controls.digest_window_seconds)}
                if controls.digest_window_seconds
                else {}
            ),
            quiet_hours_ignored=frozenset() if controls.quiet_hours else frozenset({key}),
        )

    @classmethod
    def configured(
        cls,
        max_age_s: dict[str, int],
        caps: dict[str, dict[str, tuple[int, int]]],
        digest_windows_s: dict[str, int],
    ) -> "ControlRules":
        """The rules from their configured form: seconds, and caps as (limit, window seconds)."""
        return cls(
            max_age={k: timedelta(seconds=v) for k, v in max_age_s.items()},
            caps={
                (event_type, Channel(channel)): FrequencyCap(limit, timedelta(seconds=window))
                for event_type, per_channel in caps.items()
                for channel, (limit, window) in per_channel.items()
            },
            digest_windows={k: timedelta(seconds=v) for k, v in digest_windows_s.items()},
        )


class WorkflowRules:
    """The rules of each event's workflow version, made once per version (versions never change)."""

    def __init__(self, versions: "KeptVersions") -> None:
        self._versions = versions
        self._made: dict[tuple[str, int], ControlRules] = {}

    def rules_for(self, event_type: str, version: int) -> ControlRules:
        made = self._made.get((event_type, version))
        if made is None:
            found, _ = self._versions.compiled(event_type, version)
            made = self._made.setdefault(
                (event_type, version), ControlRules.of_workflow(event_type, found.definition.controls)
            )
        return made


@dataclass(frozen=True)
class Verdict:
    status: VerdictStatus
    reason: str | None = None
    deliver_after: datetime | None = None


SEND = Verdict("send")
OVER_CAP = Verdict("skipped", "frequency_cap")
SUPPRESSED = Verdict("skipped", "suppressed")  # the address is on the suppression list


def preferences_from_document(document: PreferencesDocument | None) -> Preferences:
    """The stored document (None: never set) as the rules read it."""
    if document is None:
        return Preferences()
    channels_off = frozenset(channel for channel in Channel if not getattr(document.channels, channel))
    switches = {str(event_type): getattr(document, event_type) for event_type in EventType}
    event_channels_off = frozenset(
        (event_type, channel)
        for source in (switches, document.workflows)
        for event_type, switched in source.items()
        for channel in Channel
        if not getattr(switched, channel)
    )
    quiet = document.quiet_hours
    return Preferences(
        channels_off=channels_off,
        event_channels_off=event_channels_off,
        quiet_hours=None
        if quiet is None
        else QuietHours(start=time.fromisoformat(quiet.start), end=time.fromisoformat(quiet.end)),
    )


def decide(
    *,
    event_type: str,
    channel: Channel,
    tier: Tier,
    due_at: datetime,
    now: datetime,
    user_timezone: str,
    preferences: Preferences,
    rules: ControlRules,
    in_digest: bool = False,
) -> Verdict:
    """What to do with one recipient now. Frequency caps are applied after this, by the
    ledger, because counting must be atomic across concurrent senders."""
    max_age = rules.max_age.get(event_type)
    if max_age is not None and now - due_at > max_age:
        return Verdict("expired", "stale")
    if not preferences.allows(event_type, channel):
        return Verdict("skipped", "opted_out")
    quiet_hours = preferences.quiet_hours if event_type not in rules.quiet_hours_ignored else None
    if tier is not Tier.HIGH and quiet_hours is not None:
        until = quiet_hours_end(now, user_timezone, quiet_hours)
        if until is not None:
            return Verdict("deferred", "quiet_hours", until)
    window = rules.digest_windows.get(event_type)
    if window is not None and not in_digest:
        return Verdict("held", "digest", now + window)
    return SEND


def quiet_hours_end(now: datetime, timezone: str, quiet: QuietHours) -> datetime | None:
    """The end of the quiet window `now` falls in, in UTC; None outside the window.

    The window is read on the user's wall clock, so it moves with daylight-saving changes;
    an end that falls in a skipped hour is read with the offset before the change (PEP 495),
    i.e. as long after the start as the wall clock says.
    """
    if quiet.start == quiet.end:
        return None
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    wraps = quiet.start > quiet.end  # e.g. 22:00-08:00
    inside = (clock >= quiet.start or clock < quiet.end) if wraps else (quiet.start <= clock < quiet.end)
    if not inside:
        return None
    end_day = local.date()
    if wraps and clock >= quiet.start:
        end_day += timedelta(days=1)
    return datetime.combine(end_day, quiet.end, tzinfo=zone).astimezone(UTC)
