"""Recipient-controls benchmark: 100,000 queued notifications through the send path's rule check
and status update, next to the same notifications marked sent with no rules, and the rule check
with 10,000 suppressed e-mail addresses next to it with an empty suppression list, in the same run.

Measured in process: `deliver_message` over every queue message of the notifications, with
PostgreSQL as ledger (and, on the rules side, as controls), a renderer and a sender that do
no work and no I/O, so that what is timed is the claim, the rule check (one read of
preferences, one cap reservation, one write of verdicts per message) and the status updates.

The data is what the service would hold on a busy evening (20:00 UTC): 100,000 directory users
in eight time zones (a third of them in their quiet hours), 10% opted out of something, 30%
with quiet hours of their own (a sixth of those turned off), a quarter of the promotion's
recipients with promotions already reserved today (15% at the cap). The notifications are
stored by the ingest's fan-out (accept_event): a promotion (e-mail, capped at 3 a day), four
bursts of likes to the same users (held for digests), a high-tier new episode (ignores quiet
hours) and reminders, a fifth of them from a backlog past their maximum age. The baseline is
a second copy of the same notifications, stored the same way, delivered without controls.

The suppression check (the same read as the preferences, `recipient_facts`) is measured on
identical work: the rules side's copy of the notifications delivered with 10,000 e-mail addresses
in `suppressions` (--suppressions) that none of its recipients has (directory users who get
nothing tonight, some spelled in capitals as a bounce may report them, and addresses the
directory no longer holds), against the same copy with the list empty. Both send the same
messages and must end with the same outcomes (checked), so the difference is the look-up alone.
That a suppressed recipient is in fact caught is checked by a third copy of the notifications,
delivered once with 10,000 suppressed addresses of which half are its recipients: every
notification to one of them must come out `skipped`/`suppressed` (counted from the generated
messages), none with the list empty, or the bench exits non-zero; its rate is printed but is not
the cost (it sends fewer messages). All lists are stored with the adapter's set-wise `suppress()`.

Each timed side is repeated (--repeat, median reported), in turns (the two lists of a run next to
each other, their order alternating), the suppression list filled or emptied before a rules side;
after each side its rows are put back to `queued` and its reservations removed, so that no pass
sees another's digest windows or reservations. After a rules side `notifications` is analysed
(the reset only vacuums it), so that the planner sees an evening's mix of held and deferred rows,
as autovacuum would show it; with autovacuum off (as in this machine's CI configuration) and
statistics of a table all `queued`, record_verdicts' digest-window look-up falls, after a few
rounds, on the deliver_after index and takes seconds per message.

Run with `make bench` (or `.venv/bin/python bench/controls.py`); needs PostgreSQL on this
machine. It creates its own database and removes it at the end. The last line printed is JSON:
{"bench": "controls", "notifications": N, "rate_per_s": ..., "baseline_rate_per_s": ..., "ratio": ...,
"suppressed_addresses": 10000, "suppressed_rate_per_s": ..., "suppression_cost": ...}, where
rate_per_s is the rules side with the suppression list empty, suppressed_rate_per_s the same work with the
10,000 addresses listed, and suppression_cost is 1 - suppressed_rate_per_s / rate_per_s
(suppression_cost_by_run: the same, run by run, the two lists of a run next to each other;
suppression_check_cost: the extra seconds of the rule check over the send path's seconds).
Targets: ratio >= 0.5; suppression_cost <= 0.10.
"""

import argparse
import json
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from notify.adapters.postgres import PostgresStore
from notify.bootstrap import control_rules
from notify.channels import CONTACT_FIELD, Channel, EventType, QueueRouter
from notify.delivery import deliver as delivery
from notify.delivery.dispatch import DispatchPolicy
from notify.delivery.models import Content, NotificationMessage, PreferencesDocument, Recipient
from notify.delivery.ports import Rendered
from notify.events.ingest import IngestPolicy, IngestPorts, accept_event
from notify.events.models import EventRequest
from notify.feedback.ports import Suppression
from notify.feedback.ses_events import COMPLAINT, HARD_BOUNCE
from notify.feedback.suppressions import OPERATOR, normal_address
from notify.settings import Settings
from notify_dev.delivering import deliver
from notify_dev.doubles import FakePublisher
from notify_dev.scratch import scratch_database

NOW = datetime(2025, 3, 14, 20, 0, tzinfo=UTC)  # a Friday evening
# (zone, share of users): at NOW it is 23:00 in Moscow, 05:00 in Tokyo, 03:00 in Novosibirsk.
ZONES = (
    ("UTC", 20),
    ("Europe/London", 10),
    ("Europe/Berlin", 15),
    ("Europe/Moscow", 25),
    ("America/New_York", 15),
    ("America/Los_Angeles", 5),
    ("Asia/Tokyo", 5),
    ("Asia/Novosibirsk", 5),
)
CUSTOM_QUIET_HOURS: tuple[dict[str, str] | None, ...] = (
    {"start": "23:00", "end": "07:00"},
    {"start": "21:00", "end": "09:00"},
    {"start": "00:00", "end": "06:00"},
    {"start": "22:30", "end": "07:30"},
    {"start": "13:00", "end": "14:00"},
    None,  # off
)
OPT_OUTS: tuple[dict[str, Any], ...] = (
    {"new_releases_promo": {"email": False}},
    {"new_releases_promo": {"email": False}},
    {"comment_liked": {"email": False}},
    {"channels": {"email": False}},
)


@dataclass(frozen=True)
class Plan:
    """Who gets what: (event type, priority, created_dt, user ids) per event, and the data."""

    events: list[tuple[EventType, int, datetime, list[str]]]
    users: list[tuple[str, str, str, str]]  # user_id, email, locale, timezone
    preferences: list[tuple[str, str]]  # user_id, document (JSON)
    reservations: list[tuple[str, datetime]]  # user_id, reserved_at (promotion e-mails)


def plan(total: int, seed: int = 7) -> Plan:
    """100,000 notifications: 40% promotion, 20% likes (4 bursts to 5%), 30% new episode, 10% reminders."""
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(total)]
    zones = rng.choices([zone for zone, _ in ZONES], weights=[weight for _, weight in ZONES], k=total)
    users = [
        (
            user_id,
            f"viewer{n}@cinema.example",
            "ru" if zone in ("Europe/Moscow", "Asia/Novosibirsk") else "en",
            zone,
        )
        for n, (user_id, zone) in enumerate(zip(ids, zones, strict=True))
    ]
    preferences = []
    for user_id in ids:
        document: dict[str, Any] = {}
        if rng.random() < 0.10:
            document.update(rng.choice(OPT_OUTS))
        if rng.random() < 0.30:
            document["quiet_hours"] = rng.choice(CUSTOM_QUIET_HOURS)
        if document:
            stored = PreferencesDocument.model_validate(document).model_dump(mode="json")
            preferences.append((user_id, json.dumps(stored)))

    promo_n, likes_n, episode_n = total * 40 // 100, total * 5 // 100, total * 30 // 100
    reminder_n = total - promo_n - 4 * likes_n - episode_n
    shuffled = ids[:]
    rng.shuffle(shuffled)
    promo = shuffled[:promo_n]
    liked = shuffled[promo_n : promo_n + likes_n]
    episode = shuffled[-episode_n:]
    reminder = shuffled[promo_n + likes_n : promo_n + likes_n + reminder_n]
    backlog = reminder_n // 5

    reservations: list[tuple[str, datetime]] = []
    for user_id in promo:
        draw = rng.random()
        earlier = 3 if draw < 0.15 else 2 if draw < 0.20 else 1 if draw < 0.25 else 0
        reservations.extend((user_id, NOW - timedelta(hours=rng.uniform(1, 23))) for _ in range(earlier))

    events: list[tuple[EventType, int, datetime, list[str]]] = [
        (EventType.NEW_RELEASES_PROMO, 2, NOW - timedelta(minutes=5), promo),
        *((EventType.COMMENT_LIKED, 5, NOW - timedelta(minutes=4 - m), liked) for m in range(4)),
        (EventType.NEW_EPISODE, 8, NOW - timedelta(minutes=1), episode),
        (EventType.WATCH_LATER_REMINDER, 4, NOW - timedelta(minutes=30), reminder[backlog:]),
        (EventType.WATCH_LATER_REMINDER, 4, NOW - timedelta(hours=30), reminder[:backlog]),
    ]
    return Plan(events=events, users=users, preferences=preferences, reservations=reservations)


def load(dsn: str, data: Plan) -> uuid.UUID:
    movie_id = uuid.uuid4()
    with psycopg.connect(dsn) as conn:
        with conn.cursor().copy("COPY directory_users (user_id, email, locale, timezone) FROM STDIN") as copy:
            for user in data.users:
                copy.write_row(user)
        with conn.cursor().copy("COPY user_preferences (user_id, document) FROM STDIN") as copy:
            for document in data.preferences:
                copy.write_row(document)
        with conn.cursor().copy(
            "COPY frequency_reservations (user_id, event_type, channel, reserved_at) FROM STDIN"
        ) as copy:
            for user_id, reserved_at in data.reservations:
                copy.write_row(
                    (user_id, EventType.NEW_RELEASES_PROMO.value, Channel.EMAIL.value, reserved_at)
                )
        conn.execute(
            "INSERT INTO directory_movies (movie_id, title, season) VALUES (%s, 'Северное сияние', 2)",
            (movie_id,),
        )
    return movie_id


def fan_out(
    store: PostgresStore, data: Plan, movie_id: uuid.UUID
) -> tuple[list[uuid.UUID], list[NotificationMessage]]:
    """Store one copy of the notifications as the ingest does; their event ids and queue messages."""
    publisher = FakePublisher()
    event_ids = []
    for event_type, priority, created_dt, user_ids in data.events:
        request = EventRequest.model_validate(
            {
                "event_type": event_type,
                "created_dt": created_dt.isoformat(),
                "priority": priority,
                "payload": {"user": user_ids, "content": [str(movie_id)]},
            }
        )
        accepted = accept_event(
            request,
            now=NOW - timedelta(seconds=1),
            ports=IngestPorts(events=store, directory=store, outbox=store, publisher=publisher),
            policy=IngestPolicy(router=QueueRouter("notify"), chunk_size=250),
        )
        event_ids.append(accepted.event_id)
    messages = [NotificationMessage.model_validate_json(message.body) for message in publisher.published]
    return event_ids, messages


def suppression_list(data: Plan, count: int, *, among_recipients: int, seed: int = 11) -> list[Suppression]:
    """`count` suppressed e-mail addresses: `among_recipients` of them recipients of the
    notifications, the rest outside them (half directory users who get nothing, then addresses the
    directory no longer holds); a third of the directory's spelled in capitals, as a bounce may
    report them."""
    rng = random.Random(seed)
    email_of = {user_id: email for user_id, email, _, _ in data.users}
    recipients = sorted({user_id for *_, user_ids in data.events for user_id in user_ids})
    among = [email_of[user_id] for user_id in rng.sample(recipients, min(among_recipients, len(recipients)))]
    idle = sorted(set(email_of) - set(recipients))
    outside = [email_of[user_id] for user_id in rng.sample(idle, min((count - len(among)) // 2, len(idle)))]
    known = [address.upper() if n % 3 == 0 else address for n, address in enumerate(among + outside)]
    former = [f"former{n}@cinema.example" for n in range(count - len(known))]
    reasons = (HARD_BOUNCE, HARD_BOUNCE, COMPLAINT, OPERATOR)
    return [
        Suppression(
            str(Channel.EMAIL), address, rng.choice(reasons), NOW - timedelta(days=rng.uniform(1, 400))
        )
        for address in known + former
    ]


def expected_suppressed(messages: list[NotificationMessage], entries: Sequence[Suppression]) -> int:
    """How many notifications go to a suppressed address on the channel it is suppressed on."""
    suppressed = {(entry.channel, normal_address(entry.channel, entry.address)) for entry in entries}
    total = 0
    for message in messages:
        channel = message.transport_type
        for user in message.payload.user:
            contact = getattr(user, CONTACT_FIELD[channel])
            total += contact is not None and (str(channel), normal_address(channel, contact)) in suppressed
    return total


def fill_suppressions(store: PostgresStore, dsn: str, entries: Sequence[Suppression]) -> None:
    """The suppression list holds exactly `entries` (none: empty), analysed as autovacuum would."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE suppressions")
    added = store.suppress(entries)
    if added != len(entries):
        raise SystemExit(f"suppress() added {added:,} addresses, expected {len(entries):,}")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE suppressions")
        conn.execute("CHECKPOINT")


class NullSender:
    """A provider that accepts everything at once: no I/O on either side of the comparison."""

    def __init__(self) -> None:
        self.sent = 0
        self._lock = threading.Lock()  # sends run in the delivery's threads

    def send(self, address: str, message: Rendered) -> str:
        with self._lock:
            self.sent += 1
        return "bench"


class ConstantRenderer:
    RENDERED = Rendered(text="bench", subject="bench")

    def render(
        self,
        event_type: str,
        channel: Channel,
        user: Recipient,
        content: Sequence[Content],
        version: int = 1,
    ) -> Rendered:
        return self.RENDERED


class RuleClock:
    """Adds up the time deliver_message spends in its rule check (delivery.deliver.screen_recipients)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._screen = delivery.screen_recipients

    def __enter__(self) -> "RuleClock":
        def timed(*args: Any, **kwargs: Any) -> list[Recipient]:
            started = time.perf_counter()
            try:
                return self._screen(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        delivery.screen_recipients = timed
        return self

    def __exit__(self, *exc: object) -> None:
        delivery.screen_recipients = self._screen


def time_delivery(
    store: PostgresStore, messages: list[NotificationMessage], *, with_rules: bool
) -> tuple[float, int]:
    """Every message through deliver_message; (seconds, recipients sent)."""
    sender, renderer, rules = NullSender(), ConstantRenderer(), control_rules(Settings())
    store.check()  # the pool open before the clock starts
    started = time.perf_counter()
    for message in messages:
        deliver(
            message,
            store,
            sender,
            renderer,
            now=NOW,
            controls=store if with_rules else None,
            rules=rules,
            dispatch=DispatchPolicy(),
        )
    return time.perf_counter() - started, sender.sent


def outcomes(dsn: str, event_ids: list[uuid.UUID]) -> Counter[tuple[str, str | None]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            """
            SELECT status, reason, count(*) FROM notifications
            WHERE event_id = ANY(%s) GROUP BY status, reason
            """,
            (event_ids,),
        ).fetchall()
    return Counter({(status, reason): n for status, reason, n in rows})


def check_caps(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        over = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT user_id FROM frequency_reservations WHERE reserved_at > %s
                GROUP BY user_id HAVING count(*) > 3) o
            """,
            (NOW - timedelta(hours=24),),
        ).fetchone()
    if over != (0,):
        raise SystemExit(f"{over[0] if over else '?'} users were sent more than 3 promotions in 24 hours")


def analyze_notifications(dsn: str) -> None:
    """Statistics of the notifications as a rules side leaves them (held, deferred, skipped, sent)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE notifications")


def reset(dsn: str, event_ids: list[uuid.UUID]) -> None:
    """Put the notifications back to `queued` and forget the run's reservations (the statistics of
    the notifications stay those of the last rules side)."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """
            UPDATE notifications SET status = 'queued', reason = NULL, attempts = 0, claimed_until = NULL,
                   sent_at = NULL, provider_message_id = NULL, error = NULL, deliver_after = NULL,
                   digest_count = NULL, digested_into = NULL
            WHERE event_id = ANY(%s)
            """,
            (event_ids,),
        )
        conn.execute("DELETE FROM frequency_reservations WHERE reserved_at = %s", (NOW,))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM notifications")
        conn.execute("VACUUM ANALYZE frequency_reservations")
        conn.execute("CHECKPOINT")


def describe(counts: Counter[tuple[str, str | None]]) -> str:
    total = sum(counts.values())
    return ", ".join(
        f"{status}{f'/{reason}' if reason else ''} {n:,} ({n / total:.0%})"
        for (status, reason), n in counts.most_common()
    )


@dataclass
class Side:
    """One kind of measurement: which copy of the notifications, with or without rules, which list."""

    label: str
    events: list[uuid.UUID]
    messages: list[NotificationMessage]
    with_rules: bool
    suppressions: Sequence[Suppression] = ()
    expected_suppressed: int = 0
    seconds: list[float] = field(default_factory=list)
    rule_seconds: list[float] = field(default_factory=list)
    outcomes: Counter[tuple[str, str | None]] = field(default_factory=Counter)


def check_outcomes(side: Side, n: int, sent: int) -> None:
    counts = side.outcomes
    if not side.with_rules:
        if sent != n or counts != {("sent", None): n}:
            raise SystemExit(f"the baseline sent {sent:,} notifications, expected {n:,}: {counts}")
        return
    if sum(counts.values()) != n:
        raise SystemExit(f"unexpected outcomes {side.label}: {counts}")
    if counts[("queued", None)] or counts[("sending", None)]:
        raise SystemExit(f"notifications left without an outcome {side.label}: {counts}")
    if counts[("skipped", "suppressed")] != side.expected_suppressed:
        raise SystemExit(
            f"{counts[('skipped', 'suppressed')]:,} notifications skipped as suppressed {side.label}, "
            f"expected {side.expected_suppressed:,}"
        )


def measure(side: Side, store: PostgresStore, dsn: str, n: int) -> None:
    """One pass of a side: its list in place, every message delivered, its outcomes checked, reset."""
    if side.with_rules:
        fill_suppressions(store, dsn, side.suppressions)
    with RuleClock() as rule_clock:
        elapsed, sent = time_delivery(store, side.messages, with_rules=side.with_rules)
    side.seconds.append(elapsed)
    side.rule_seconds.append(rule_clock.seconds)
    side.outcomes = outcomes(dsn, side.events)
    check_outcomes(side, n, sent)
    if side.with_rules:
        check_caps(dsn)
        analyze_notifications(dsn)
    reset(dsn, side.events)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notifications", type=int, default=100_000)
    parser.add_argument("--suppressions", type=int, default=10_000, help="suppressed e-mail addresses")
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each kind (median reported)")
    args = parser.parse_args(argv)
    n = args.notifications
    data = plan(n)
    listed = suppression_list(data, args.suppressions, among_recipients=0)
    caught = suppression_list(data, args.suppressions, among_recipients=args.suppressions // 2, seed=13)

    with scratch_database("notify_bench") as dsn:
        print(f"database {dsn.rpartition('/')[2]}")
        store = PostgresStore(dsn)
        try:
            store.migrate()
            started = time.perf_counter()
            movie_id = load(dsn, data)
            print(
                f"loaded {len(data.users):,} users, {len(data.preferences):,} preference documents and "
                f"{len(data.reservations):,} earlier promotion reservations "
                f"in {time.perf_counter() - started:.2f} s"
            )
            started = time.perf_counter()
            ruled_events, ruled_messages = fan_out(store, data, movie_id)
            plain_events, plain_messages = fan_out(store, data, movie_id)
            barred_events, barred_messages = fan_out(store, data, movie_id)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                conn.execute("CHECKPOINT")
            stored = tuple(
                sum(outcomes(dsn, copy).values()) for copy in (ruled_events, plain_events, barred_events)
            )
            if stored != (n, n, n):
                raise SystemExit(f"the fan-out stored {stored} notifications, expected {n} three times")
            print(
                f"stored {n:,} notifications three times with the ingest's fan-out ({len(ruled_messages)} "
                f"messages each) in {time.perf_counter() - started:.2f} s"
            )

            if expected_suppressed(ruled_messages, listed):
                raise SystemExit("the timed suppression list holds recipients of the notifications")
            expected = expected_suppressed(barred_messages, caught)
            print(
                f"{len(listed):,} suppressed e-mail addresses, none of them recipients, timed against an "
                f"empty list; {len(caught):,} with {expected:,} of the notifications going to them, checked"
            )
            plain = Side("without rules", plain_events, plain_messages, with_rules=False)
            ruled = Side("with rules", ruled_events, ruled_messages, with_rules=True)
            suppressed = Side(
                f"with rules and {len(listed):,} suppressed addresses",
                ruled_events,
                ruled_messages,
                with_rules=True,
                suppressions=listed,
            )
            for run in range(1, args.repeat + 1):
                # Taken in turns, so that whatever else this machine does weighs on all alike.
                sides = [plain, ruled, suppressed]
                for side in sides if run % 2 else sides[::-1]:
                    measure(side, store, dsn, n)
                if suppressed.outcomes != ruled.outcomes:
                    raise SystemExit(
                        f"the same work ended differently: {describe(ruled.outcomes)} with the list empty, "
                        f"{describe(suppressed.outcomes)} with {len(listed):,} addresses"
                    )
                print(
                    f"run {run}: rules {ruled.seconds[-1]:.2f} s ({n / ruled.seconds[-1]:,.0f}/s; the rule "
                    f"check {ruled.rule_seconds[-1]:.2f} s of it), with {len(listed):,} suppressions "
                    f"{suppressed.seconds[-1]:.2f} s ({n / suppressed.seconds[-1]:,.0f}/s; the rule check "
                    f"{suppressed.rule_seconds[-1]:.2f} s), no rules {plain.seconds[-1]:.2f} s "
                    f"({n / plain.seconds[-1]:,.0f}/s)"
                )
            barred = Side(
                "with rules and suppressed recipients",
                barred_events,
                barred_messages,
                with_rules=True,
                suppressions=caught,
                expected_suppressed=expected,
            )
            measure(barred, store, dsn, n)
            print(
                f"with {expected:,} notifications to suppressed recipients: {barred.seconds[-1]:.2f} s "
                f"({n / barred.seconds[-1]:,.0f}/s), every one of them skipped/suppressed"
            )
            print(f"outcomes with rules: {describe(ruled.outcomes)}")
            print(f"outcomes with suppressed recipients: {describe(barred.outcomes)}")
        finally:
            store.close()

    rate, baseline_rate = n / statistics.median(ruled.seconds), n / statistics.median(plain.seconds)
    suppressed_rate = n / statistics.median(suppressed.seconds)
    cost = 1 - suppressed_rate / rate
    check_cost = statistics.median(
        (listed_rule_s - ruled_rule_s) / ruled_s
        for ruled_s, ruled_rule_s, listed_rule_s in zip(
            ruled.seconds, ruled.rule_seconds, suppressed.rule_seconds, strict=True
        )
    )
    print(
        f"median of {args.repeat}: {rate:,.0f} notifications/s through the rules, {baseline_rate:,.0f}/s "
        f"marked sent without them; ratio {rate / baseline_rate:.2f} (target >= 0.5)"
    )
    print(
        f"median of {args.repeat}: {suppressed_rate:,.0f}/s through the rules with {len(listed):,} "
        f"suppressed addresses; suppression cost {cost:.1%} (target <= 10%), the rule check's extra "
        f"seconds {check_cost:.1%} of the send path's"
    )
    print(
        json.dumps(
            {
                "bench": "controls",
                "notifications": n,
                "rate_per_s": round(rate),
                "baseline_rate_per_s": round(baseline_rate),
                "ratio": round(rate / baseline_rate, 3),
                "statistic": f"median of {args.repeat}",
                "held_back_share": round(1 - ruled.outcomes[("sent", None)] / n, 3),
                "suppressed_addresses": len(listed),
                "suppressed_rate_per_s": round(suppressed_rate),
                "suppression_cost": round(cost, 3),
                "suppression_cost_by_run": [
                    round(1 - ruled_s / listed_s, 3)
                    for ruled_s, listed_s in zip(ruled.seconds, suppressed.seconds, strict=True)
                ],
                "suppression_check_cost": round(check_cost, 3),
                "suppressed_notifications_checked": expected,
            }
        )
    )


if __name__ == "__main__":
    main()
