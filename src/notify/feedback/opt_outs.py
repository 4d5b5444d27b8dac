"""The carrier's SMS opt-outs: numbers that replied STOP join the suppression list (`opted_out_sms`).

The tick syncs them at most once per interval. When the sync last ran is kept in storage and claimed
there, so that ticks in any number of execution environments, at the same minute or not, sync once."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from notify.channels import Channel
from notify.errors import InvalidInput, NotifyError
from notify.feedback.ports import OptedOutNumbers, Suppression, Suppressions, SyncClaims
from notify.feedback.suppressions import checked_address
from notify.logs import module_logger

OPTED_OUT_SMS = "opted_out_sms"
SMS_OPT_OUTS = "sms_opt_outs"  # the sync's name among the SyncClaims
# Longer than any tick can run (a Lambda runs 15 minutes at most): a tick that died holding the claim
# delays the sync by this much, and never stops it.
CLAIM_LEASE = timedelta(minutes=15)

logger = module_logger()


@dataclass(frozen=True)
class SmsOptOuts:
    """The ports of the sync: the provider's list, the suppression list, the claim."""

    numbers: OptedOutNumbers
    suppressions: Suppressions
    claims: SyncClaims


@dataclass(frozen=True)
class OptOutReport:
    synced: bool = False  # the sync was due, this caller ran it, and it went through
    added: int = 0  # numbers newly suppressed
    malformed: int = 0  # listed numbers not in E.164 form, left out


def sync_sms_opt_outs(ports: SmsOptOuts, *, now: datetime, every: timedelta) -> OptOutReport:
    """When the last sync is `every` old or more and no other caller is at it, suppress every number the
    carrier lists as opted out (one already suppressed keeps its reason).

    A provider failure is logged (its type and the provider's code, never a number) and leaves the sync
    due, for the next tick to try again; a storage failure does the same and is raised."""
    if not ports.claims.claim_sync(SMS_OPT_OUTS, now, every, CLAIM_LEASE):
        return OptOutReport()
    done = False
    try:
        try:
            listed = ports.numbers.opted_out_numbers()
        except NotifyError as error:
            logger.warning(
                "sms opt-outs not synced; the next tick tries again",
                extra={"error": type(error).__name__, "detail": str(error)},
            )
            return OptOutReport()
        numbers, malformed = _spelled(listed)
        entries = [Suppression(str(Channel.SMS), number, OPTED_OUT_SMS, now) for number in sorted(numbers)]
        added = ports.suppressions.suppress(entries)
        done = True
    finally:
        ports.claims.finish_sync(SMS_OPT_OUTS, now, CLAIM_LEASE, done=done)
    report = OptOutReport(synced=True, added=added, malformed=malformed)
    logger.info("sms opt-outs synced", extra={"listed": len(listed), "added": added, "malformed": malformed})
    return report


def _spelled(listed: list[str]) -> tuple[set[str], int]:
    """The numbers in their one spelling (as the suppression list keeps them), and how many were
    malformed (left out)."""
    numbers: set[str] = set()
    malformed = 0
    for number in listed:
        try:
            numbers.add(checked_address(Channel.SMS, number))
        except InvalidInput:
            malformed += 1
    return numbers, malformed
