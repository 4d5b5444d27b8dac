"""The composition root: the one place that chooses adapters for the ports. Everything is built on
first use, once, and reused for the life of the execution environment; nothing connects at import."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from notify import building_lock, built_once
from notify.access import ApiKeys, RateLimits, RememberedKeys
from notify.adapters.aws import ProviderConnection
from notify.adapters.email import SesEmailSender
from notify.adapters.postgres import (
    PostgresApiKeys,
    PostgresCancellations,
    PostgresDirectory,
    PostgresEvents,
    PostgresFanOuts,
    PostgresFeedback,
    PostgresLedger,
    PostgresPushEndpoints,
    PostgresRecipientControls,
    PostgresSchedules,
    PostgresTopics,
    PostgresWaiting,
)
from notify.adapters.postgres.delivery.engagement import PostgresEngagement
from notify.adapters.postgres.feedback.syncs import PostgresSyncClaims
from notify.adapters.postgres.retention import PostgresRetention
from notify.adapters.push import SnsPushSender
from notify.adapters.secrets import RotatingKeys
from notify.adapters.sms import SnsOptedOutNumbers, SnsSmsSender
from notify.adapters.sqs import SqsRetryDelay
from notify.bootstrap.platform import Platform, storage_port, storage_ports
from notify.bootstrap.workflows import WorkflowParts
from notify.channels import Channel, Tier
from notify.delivery import (
    ControlRules,
    DeliveryLedger,
    DeliveryPolicy,
    DispatchPolicy,
    EngagementStore,
    FixedKey,
    PreferenceStore,
    RecipientControls,
    Sender,
    SendPools,
    SigningKeys,
    TemplateRenderer,
    TrackingLinks,
    UnsubscribeLinks,
    WaitingNotifications,
    WorkflowRules,
)
from notify.events import (
    AudienceSizes,
    Directory,
    EventCancellation,
    EventStore,
    FanOuts,
    IngestPolicy,
    Topics,
)
from notify.feedback import (
    DeliveryStats,
    FeedbackStore,
    OptedOutNumbers,
    PushEndpoints,
    SuppressionPolicy,
    Suppressions,
    SyncClaims,
)
from notify.health import CachedHealth, HealthReport, Resolved, probe_parts
from notify.retention import Retention, RetentionPolicy
from notify.scheduling import ScheduleStore
from notify.settings import Settings, get_settings
from notify.tick import LostMessages, TickPolicy
from notify.workflows import MAX_AGE_SECONDS

__all__ = ["Services", "control_rules", "install", "services", "storage_port", "storage_ports"]


class Services(WorkflowParts, Platform):
    """Each capability's ports, built in one section each, over the platform below them all (the
    database, the broker, the secrets: bootstrap.platform). A port marked @storage_port is a repository
    over the one Database (one pool): use_store swaps them all for one object."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._senders: dict[Channel, Sender] = {}

    # ---- events: the store, the directory, topics and audiences, fan-out steps, cancelling ---------

    @storage_port
    def events(self) -> EventStore:
        return self._repository(PostgresEvents)

    @storage_port
    def cancellations(self) -> EventCancellation:
        return self._repository(PostgresCancellations)

    @storage_port
    def directory(self) -> Directory:
        return self._repository(PostgresDirectory)

    @storage_port
    def topics(self) -> Topics:
        return self._repository(PostgresTopics)

    @built_once
    def _fan_outs(self) -> PostgresFanOuts:
        return self._repository(PostgresFanOuts)

    @storage_port
    def audiences(self) -> AudienceSizes:
        return self._fan_outs

    @storage_port
    def fan_outs(self) -> FanOuts:
        return self._fan_outs

    @built_once
    def ingest_policy(self) -> IngestPolicy:
        settings = self.settings
        return IngestPolicy(
            router=self.router,
            chunk_size=settings.message_chunk_size,
            fan_out_step=settings.fan_out_step,
            fan_out_inline_s=settings.fan_out_inline_seconds,
            max_content_bytes=settings.max_message_bytes // 4,
            channels_of=self.kept_versions.channels,
        )

    # ---- scheduling --------------------------------------------------------------------------

    @storage_port
    def schedules(self) -> ScheduleStore:
        return self._repository(PostgresSchedules)

    # ---- delivery: the ledger, recipient controls and preferences, waiting rows, rendering, providers ---

    @storage_port
    def ledger(self) -> DeliveryLedger:
        return self._repository(PostgresLedger)

    @built_once
    def _recipient_controls(self) -> PostgresRecipientControls:
        return self._repository(PostgresRecipientControls)

    @storage_port
    def controls(self) -> RecipientControls:
        return self._recipient_controls

    @storage_port
    def preferences(self) -> PreferenceStore:
        return self._recipient_controls

    @storage_port
    def waiting(self) -> WaitingNotifications:
        return self._repository(PostgresWaiting)

    @built_once
    def rules(self) -> WorkflowRules:
        return WorkflowRules(self.kept_versions)

    @built_once
    def renderer(self) -> TemplateRenderer:
        return TemplateRenderer(
            self.kept_versions,
            links=self.unsubscribe_links,
            service=self.service_templates,
            tracking=self.tracking_links,
        )

    @built_once
    def tracking_links(self) -> TrackingLinks:
        """Tracked links and open pixels: signed with the unsubscribe links' key, in a domain of their own."""
        return TrackingLinks(self.settings.public_base_url, self.unsubscribe_keys)

    @storage_port
    def engagements(self) -> EngagementStore:
        return self._repository(PostgresEngagement)

    @built_once
    def unsubscribe_links(self) -> UnsubscribeLinks:
        days = timedelta(days=self.settings.unsubscribe_valid_days)
        return UnsubscribeLinks(self.settings.public_base_url, self.unsubscribe_keys, valid_for=days)

    @built_once
    def unsubscribe_keys(self) -> SigningKeys:
        arn = self.settings.unsubscribe_secret_arn
        return RotatingKeys(self.secrets, arn) if arn else FixedKey(self.settings.unsubscribe_secret)

    @built_once
    def delivery_policy(self) -> DeliveryPolicy:
        settings = self.settings
        return DeliveryPolicy(
            dispatch=DispatchPolicy(
                concurrency=settings.send_concurrency, safety_margin_s=settings.send_safety_margin_seconds
            ),
            rules=self.rules,
            router=self.router,
            tier_concurrency={Tier.LOW: settings.low_tier_send_concurrency},
        )

    @built_once
    def send_pools(self) -> SendPools:
        return SendPools()

    @built_once
    def provider_connection(self) -> ProviderConnection:
        settings = self.settings
        return ProviderConnection(
            region=settings.aws_region,
            read_timeout_s=settings.provider_timeout_seconds,
            connect_timeout_s=settings.provider_connect_timeout_seconds,
            # one connection per concurrent send, so no send waits for a pooled connection
            pool_size=settings.send_concurrency,
        )

    @built_once
    def retry_delay(self) -> SqsRetryDelay:
        return SqsRetryDelay(self.settings.aws_region)

    def sender(self, channel: Channel) -> Sender:
        with building_lock(self):
            if channel not in self._senders:
                self._senders[channel] = self._build_sender(channel)
            return self._senders[channel]

    def _build_sender(self, channel: Channel) -> Sender:
        connection, settings = self.provider_connection, self.settings
        match channel:
            case Channel.EMAIL:
                return SesEmailSender(settings.email_sender, connection, settings.email_configuration_set)
            case Channel.SMS:
                return SnsSmsSender(connection)
            case Channel.PUSH:
                return SnsPushSender(connection, settings.push_platform_application_arn, self.push_endpoints)

    # ---- feedback: SES events, the suppression list, SMS opt-outs, push endpoints, stats -----

    @built_once
    def _feedback(self) -> PostgresFeedback:
        return self._repository(PostgresFeedback)

    @storage_port
    def feedback(self) -> FeedbackStore:
        return self._feedback

    @storage_port
    def suppressions(self) -> Suppressions:
        return self._feedback

    @storage_port
    def delivery_stats(self) -> DeliveryStats:
        return self._feedback

    @storage_port
    def push_endpoints(self) -> PushEndpoints:
        return self._repository(PostgresPushEndpoints)

    @storage_port
    def sync_claims(self) -> SyncClaims:
        return self._repository(PostgresSyncClaims)

    @built_once
    def opted_out_numbers(self) -> OptedOutNumbers:
        return SnsOptedOutNumbers(self.settings.aws_region)

    @built_once
    def suppression_policy(self) -> SuppressionPolicy:
        return SuppressionPolicy(
            soft_bounce_limit=self.settings.soft_bounce_limit,
            soft_bounce_window=timedelta(days=self.settings.soft_bounce_window_days),
        )

    # ---- access: API keys and rate limits ----------------------------------------------------

    @built_once
    def _keys(self) -> PostgresApiKeys:
        return self._repository(PostgresApiKeys)

    @storage_port
    def api_keys(self) -> ApiKeys:
        return self._keys

    @storage_port
    def rate_limits(self) -> RateLimits:
        return self._keys

    @built_once
    def known_keys(self) -> ApiKeys:
        """The keys as the HTTP API checks them: remembered for a while in this environment."""
        return RememberedKeys(self.api_keys)

    # ---- operations: the tick, health, dead letters; and the swap tests and benchmarks use ---

    @built_once
    def tick_policy(self) -> TickPolicy:
        settings = self.settings
        return TickPolicy(
            router=self.router,
            outbox_grace_s=settings.outbox_grace_seconds,
            max_lateness=timedelta(seconds=settings.schedule_max_lateness_seconds),
            chunk_size=settings.message_chunk_size,
            batch_size=settings.tick_batch_size,
            # a reservation matters only while a cap's window still covers it: no workflow's is longer
            reservations_kept_for=timedelta(seconds=MAX_AGE_SECONDS),
            channels_of=self.kept_versions.channels,
            sms_opt_outs_every=timedelta(seconds=settings.sms_opt_out_sync_seconds),
            fan_out_step=settings.fan_out_step,
            lost=LostMessages.past_the_receive_schedule(
                settings.max_receives,
                settings.queue_visibility_timeout_seconds,
                settings.worker_message_budget_seconds,
                settings.lost_message_margin_seconds,
            ),
            retention=RetentionPolicy(
                outbox_for=timedelta(days=settings.outbox_retention_days),
                records_for=timedelta(days=settings.records_retention_days),
            ),
        )

    @storage_port
    def retention(self) -> Retention:
        return self._repository(PostgresRetention)

    @built_once
    def health(self) -> CachedHealth:
        def probe() -> HealthReport:
            return probe_parts(
                {"database": Resolved(lambda: self.database), "broker": Resolved(lambda: self.publisher)},
                # Messages the broker refused for good, waiting in the outbox for an operator.
                {
                    "outbox": ("database", lambda: {"parked": self.outbox.parked_count()}),
                    # How long the row waiting longest in a queue has waited: it grows while rows strand.
                    "oldest_queued_s": ("database", lambda: self.waiting.oldest_queued_s(datetime.now(UTC))),
                    "dead_letters": ("broker", self.dead_letters.depths),
                },
            )

        return CachedHealth(probe, ttl_s=self.settings.health_cache_seconds, clock=time.monotonic)

    def use_store(self, store: Any) -> None:
        """Serve every storage port, and the database's health probe, from one object that
        implements them all: a PostgresStore on another database, or a fake (tests, benchmarks)."""
        for port in storage_ports(type(self)):
            setattr(self, port, store)


def control_rules(settings: Settings) -> ControlRules:
    """The recipient controls as configured (expiry, caps, digest windows): the built-ins' seeds, as
    fixed rules for the tools and tests that give rules themselves."""
    return ControlRules.configured(
        settings.max_age_seconds, settings.frequency_caps, settings.digest_window_seconds
    )


_current: Services | None = None


def services() -> Services:
    """The services of this execution environment, built on first use."""
    global _current
    if _current is None:
        _current = Services(get_settings())
    return _current


def install(replacement: Services | None) -> None:
    """Swap the composition (tests install one wired with fakes; None rebuilds from settings)."""
    global _current
    _current = replacement
