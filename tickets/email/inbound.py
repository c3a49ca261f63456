"""Mail in: store the raw mail first, then parse, guard, thread and route it onto a ticket.

`store_inbound` runs on the webhook's request path and does no parsing; once the mail is committed it
wakes the worker (`wake_inbound_worker`), which queues a drain task unless one is queued already.
`process_waiting_inbound` is that task's body: it applies all waiting mail, several per transaction, and a
mail that raises never undoes the others (it is marked failed and retried by a task of its own).
`process_inbound_batch` applies one given mail, with other waiting mail riding along: a failed mail's retry
task uses it. Both are idempotent (a processed row is left alone) and safe to run twice or out of order.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message as MimeMessage
from email.utils import parsedate_to_datetime
from functools import partial

from anymail.signals import AnymailInboundEvent
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone

from tickets import db, services, sla
from tickets.email import guards
from tickets.email.outbound import auto_acknowledgement_since, last_auto_acknowledgement
from tickets.email.parsing import (
    ParsedEmail,
    collapse_history,
    header_text,
    message_ids,
    normalise_subject,
    parse_bytes,
    parse_email,
    raw_sha256,
    sanitise_html,
    subject_ticket_number,
)
from tickets.escalations import services as escalations
from tickets.language import detect_language
from tickets.models import (
    Escalation,
    EscalationRule,
    InboundEmail,
    Language,
    Message,
    Queue,
    Requester,
    SlaPolicy,
    Ticket,
    TicketEvent,
)
from tickets.wellbeing.detection import Verdict
from tickets.wellbeing.services import classify_message, inherit_restrictions, store_verdict

logger = logging.getLogger(__name__)
Kind = TicketEvent.Kind
# How far back a reply without headers or tag may match an open ticket by its subject.
SUBJECT_MATCH_WINDOW = timedelta(days=30)
# How many of a thread's latest messages a reply is compared with, for history pasted without markers.
HISTORY_MESSAGES = 20
# A stored mail in one of these states is final: processing it again is a no-op.
DONE_STATUSES = (InboundEmail.Status.PROCESSED, InboundEmail.Status.IGNORED, InboundEmail.Status.SPAM)
# Mail applied per transaction by a worker: one commit (and its flush to disk) covers them all, while the
# locks taken on tickets and requesters are held for a fraction of a second.
BATCH_SIZE = 25
# Raw bytes loaded into one batch, so a run of large mails is not held in memory all at once.
BATCH_BYTES = 16 * 1024 * 1024
# How long one task keeps taking further batches of waiting mail before it queues a fresh drain task for
# the rest: the bound keeps one task well inside the broker's visibility timeout, and lets other tasks on
# the queue run between two drains.
DRAIN_SECONDS = 10.0
# The wake-up flag lives this long at most: a drain task lost before it started (a broker restart) is
# replaced by the next mail after this, or by beat's stale-mail sweep.
WAKE_FLAG_SECONDS = 60
# A mail that failed inside a drain is tried again by a task of its own, this many seconds later.
RETRY_AFTER_SECONDS = 5
# Mail waiting longer than this with no drain holding it is taken by beat's sweep (`stale_waiting_count`).
STALE_AFTER = timedelta(seconds=30)
# A Date header this far past the mail's arrival is a wrong clock: the arrival time stands in for it.
FUTURE_DATE_TOLERANCE = timedelta(minutes=5)
# Nor is a Date before this year a time any client wrote (a zero clock gives 1970).
EARLIEST_DATE_YEAR = 1990
# Only mail that arrived this recently is acknowledged: history fed through `import_mail` never is.
ACKNOWLEDGE_WITHIN = timedelta(days=1)
# A mail whose processing was started this many times without ever ending (its worker was killed by the
# hard time limit, or died) is marked failed instead of being started again.
MAX_UNFINISHED_STARTS = 2
UNFINISHED_STARTS_SECONDS = 24 * 3600


class MailTimeLimitExceeded(Exception):
    """One mail took longer than `ACOLHE_INBOUND_MAIL_SECONDS` to apply."""


# Raised inside the processing of one mail when it runs out of time: the mail-level limit, or the Celery
# task's soft time limit. Such a mail is marked failed with the reason and not retried by itself (it would
# take as long again); an admin can re-process it.
TIME_LIMIT_ERRORS = (MailTimeLimitExceeded, SoftTimeLimitExceeded)


class _MailTimedOut(Exception):
    """A mail ran out of time in a batch run without savepoints: the batch is rolled back, the mail marked
    failed, and a fresh drain applies the others."""

    def __init__(self, inbound_pk: int, error: Exception):
        super().__init__(str(error))
        self.inbound_pk, self.error = inbound_pk, error


@contextmanager
def mail_time_limit(seconds: float | None = None) -> Iterator[None]:
    """Raise `MailTimeLimitExceeded` in the code inside once `seconds` (default `ACOLHE_INBOUND_MAIL_SECONDS`)
    have passed. A POSIX interval timer, as Celery's soft time limit is a signal: it interrupts Python code
    (a slow parser, a slow query's return) but not one long call into C, which the task's hard time limit
    ends. Off outside the main thread, where signals cannot be handled."""
    seconds = settings.ACOLHE_INBOUND_MAIL_SECONDS if seconds is None else seconds
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise MailTimeLimitExceeded(f"processing took longer than the {seconds:g} s time limit per mail")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def mail_date(headers: MimeMessage | None, arrived: datetime) -> tuple[datetime, str]:
    """(when the mail was written, "" or why the arrival time stands in for it: "missing", "unparseable"
    or "future"). A Date without a zone (`-0000`, or none at all) is read as UTC."""
    value = header_text(headers, "Date") if headers is not None else ""
    if not value:
        return arrived, "missing"
    try:
        written = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return arrived, "unparseable"
    if written is None or written.year < EARLIEST_DATE_YEAR:
        return arrived, "unparseable"
    if written.tzinfo is None:
        written = written.replace(tzinfo=UTC)
    if written > arrived + FUTURE_DATE_TOLERANCE:
        return arrived, "future"
    return written, ""


def _starts_key(inbound: InboundEmail) -> str:
    # The arrival time too: a database re-created (tests, a restore) gives the same ids to other mail.
    return f"inbound:starts:{connection.settings_dict['NAME']}:{inbound.pk}:{inbound.received_at.timestamp()}"


# The start counts are a safety net kept in the cache: mail is applied without them when it is unreachable
# (`import_mail` runs with no broker), as it was before they existed.


def _unfinished_starts(rows: list[InboundEmail]) -> dict[int, int]:
    """How many times each mail's processing was started and never ended (one round trip per batch)."""
    if not rows:
        return {}
    try:
        found = cache.get_many([_starts_key(row) for row in rows])
    except Exception as exc:
        logger.warning("inbound start counts unavailable: %s", exc)
        found = {}
    return {row.pk: found.get(_starts_key(row), 0) for row in rows}


def _mark_starts(marks: dict[str, int]) -> None:
    try:
        cache.set_many(marks, UNFINISHED_STARTS_SECONDS)
    except Exception as exc:
        logger.warning("inbound start counts not recorded: %s", exc)


def _note_start(inbound: InboundEmail, starts: int, previous: InboundEmail | None) -> None:
    """Record that this mail's processing starts (for the `starts`-th time) and the previous mail's ended,
    in one round trip: if the worker is killed now, only this mail is left counted. Only for a batch that
    holds mail whose worker was killed (see `_apply_batch`)."""
    marks = {_starts_key(inbound): starts}
    if previous is not None:
        marks[_starts_key(previous)] = 0
    _mark_starts(marks)


def _forget_starts(rows: list[InboundEmail]) -> None:
    """The batch holding these mails ended (committed or rolled back): their starts were not a crash."""
    if rows:
        try:
            cache.delete_many([_starts_key(row) for row in rows])
        except Exception as exc:
            logger.warning("inbound start counts not cleared: %s", exc)


@dataclass(frozen=True)
class _ThreadHints:
    """What the database knows about a mail's thread before it is applied, read in one round trip."""

    duplicate_of: int | None = None  # ticket id of a stored message with this Message-ID
    parents_pending: bool = False  # a mail it answers is stored but not applied yet
    parent_ticket_id: int | None = None  # ticket of the latest stored message it references
    tagged_ticket_id: int | None = None  # ticket named by the subject tag, and its requester
    tagged_requester_id: int | None = None
    child_ticket_id: int | None = None  # ticket of a stored reply to this mail (it arrived first)


@dataclass
class _Lookups:
    """Queues chosen and SLA policies found, kept for every batch of one drain: they change rarely and a
    drain lasts at most `DRAIN_SECONDS`, so a change applies to mail from the next drain on."""

    queues: dict[tuple, Queue] = field(default_factory=dict)
    # SLA policy per (queue id, priority).
    policies: dict[tuple[int, int], SlaPolicy | None] = field(default_factory=dict)
    # The active escalation rules, read when a mail of the drain is first flagged sensitive.
    rules: list[EscalationRule] | None = None

    def escalation_rules(self) -> list[EscalationRule]:
        if self.rules is None:
            self.rules = escalations.active_rules()
        return self.rules


@dataclass
class _Batch:
    """What stays the same across the mails of one worker batch, and which rows it applied early."""

    lookups: _Lookups = field(default_factory=_Lookups)
    # Rows applied out of turn (a parent ahead of its reply): their in-memory copy is stale.
    touched: set[int] = field(default_factory=set)
    # Per requester id, when their latest auto-acknowledgement within the interval was recorded (None: none
    # was). The batch holds each requester's row lock until commit, so only the batch itself adds one.
    last_acks: dict[int, datetime | None] = field(default_factory=dict)
    # Mails whose processing this batch started (see `_note_start`).
    started: list[InboundEmail] = field(default_factory=list)
    # While not None, each mail leaves its outcome here (`_finish`, `_finish_applied`: with its events and
    # ticket times), and `write_finished` writes the batch's in one statement; None: each writes its own.
    finished: list[InboundEmail] | None = None
    finished_events: list[TicketEvent] = field(default_factory=list)
    # (ticket id, last_message_at, updated_at) of each ticket a mail left to touch, in order.
    finished_touches: list[tuple[int, datetime | None, datetime | None]] = field(default_factory=list)

    def write_finished(self) -> None:
        """Write the outcomes left so far (one statement). Also before anything that reads them back: a
        reply to a mail of the batch (its parent's status), a parent applied ahead of its reply, a bounce
        (whose events must follow theirs)."""
        if self.finished:
            db.finish_applied_mails(self.finished, self.finished_events, self.finished_touches)
            self.finished, self.finished_events, self.finished_touches = [], [], []

    def awaits(self, message_ids: list[str]) -> bool:
        """Whether the outcome of a mail stored under one of these Message-IDs is still to be written."""
        if not self.finished:
            return False
        return not {row.dedupe_key for row in self.finished}.isdisjoint(message_ids)

    def sla_policy_for(self, queue_id: int, priority: int) -> SlaPolicy | None:
        key, policies = (queue_id, priority), self.lookups.policies
        if key not in policies:
            policies[key] = sla.policy_for(queue_id, priority)
        return policies[key]

    def acknowledged_recently(self, requester: Requester, *, first_contact: bool) -> bool:
        """Whether the requester had an auto-acknowledgement within the interval: read at most once a batch,
        and not at all while one this process committed earlier is still within it."""
        since = auto_acknowledgement_since()
        if requester.pk not in self.last_acks:
            known = _ACKNOWLEDGED_HERE.get((connection.settings_dict["NAME"], requester.pk))
            if known is not None and known >= since:
                # Events are never edited, so a committed acknowledgement stays until the interval ends.
                self.last_acks[requester.pk] = known
            elif first_contact:
                # A requester created in this transaction has no ticket, so no acknowledgement, to look for.
                self.last_acks[requester.pk] = None
            else:
                self.last_acks[requester.pk] = last_auto_acknowledgement(requester, since=since)
        last = self.last_acks[requester.pk]
        return last is not None and last >= since

    def committed(self) -> None:
        """Remember the acknowledgements this batch's transaction recorded, now that it is committed."""
        database = connection.settings_dict["NAME"]
        for pk, last in self.last_acks.items():
            if last is not None:
                _ACKNOWLEDGED_HERE[(database, pk)] = last
        _trim(_ACKNOWLEDGED_HERE)


# When each requester's latest auto-acknowledgement committed by this process was recorded, by (database,
# requester id), so mail from a requester acknowledged within the interval needs no look-up.
_ACKNOWLEDGED_HERE: dict[tuple[str, int], datetime] = {}
_REMEMBERED_MAX = 20_000


def _trim(remembered: dict) -> None:
    while len(remembered) > _REMEMBERED_MAX:
        del remembered[next(iter(remembered))]


def store_inbound(
    raw: bytes,
    *,
    esp: str,
    envelope_recipient: str = "",
    envelope_sender: str = "",
    spam_detected: bool | None = None,
    spam_score: float | None = None,
    enqueue: bool = True,
    received_at: datetime | None = None,
) -> tuple[InboundEmail, bool]:
    """Keep the raw mail and (unless `enqueue` is false) wake the worker for it on commit.
    Returns (row, created); a second delivery of the same mail is a no-op. `received_at` is when it
    arrived, for mail that arrived elsewhere first (`import_mail`); by default now."""
    digest = raw_sha256(raw)
    try:
        header_ids = message_ids(
            str(parse_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]).get("Message-ID", ""))
        )
    except Exception:
        header_ids = []
    message_id = header_ids[0][:998] if header_ids else ""
    dedupe_key = message_id or f"sha256:{digest}"
    inbound = InboundEmail(
        esp=esp[:30],
        raw=raw,
        raw_sha256=digest,
        dedupe_key=dedupe_key,
        message_id=message_id,
        envelope_recipient=(envelope_recipient or "")[:254],
        envelope_sender=(envelope_sender or "")[:254],
        spam_detected=spam_detected,
        spam_score=spam_score,
        received_at=received_at or timezone.now(),
    )
    # One statement, on the request path: a retry (or a racing duplicate) inserts nothing.
    created = db.insert_row(inbound, on_conflict="(dedupe_key) DO NOTHING")
    if not created:
        stored = InboundEmail.objects.get(dedupe_key=dedupe_key)
        if not message_id or stored.raw_sha256 == digest:
            return stored, False
        # Another mail, with other bytes, under a Message-ID already stored (broken mailers and forwarders
        # reuse them): kept as its own mail under the Message-ID plus its hash, so a retry of it is a no-op.
        inbound.dedupe_key = dedupe_key = reused_message_id_key(message_id, digest)
        created = db.insert_row(inbound, on_conflict="(dedupe_key) DO NOTHING")
        if not created:
            return InboundEmail.objects.get(dedupe_key=dedupe_key), False
    if enqueue:
        # Robust: with Redis down the mail is still stored and acknowledged; beat's stale-mail sweep wakes
        # the worker for it.
        transaction.on_commit(wake_inbound_worker, robust=True)
    return inbound, True


def on_inbound(sender, event: AnymailInboundEvent, esp_name: str, **kwargs) -> None:
    """Anymail's `inbound` signal, for an ESP whose view builds the message itself (see
    `tickets.email.webhooks`): keep its bytes. Here rather than beside the views, so that connecting it
    (`TicketsConfig.ready`) does not load every ESP's webhook code into workers and commands."""
    message = event.message
    for address in (message.envelope_recipient, message.envelope_sender):
        if address is not None and not isinstance(address, str):
            # A post whose JSON has a list or a number there: the webhook answers 400 (`MALFORMED_INPUT`).
            raise TypeError(f"envelope address of type {type(address).__name__}")
    store_inbound(
        message.as_bytes(),
        esp=esp_name,
        envelope_recipient=message.envelope_recipient or "",
        envelope_sender=message.envelope_sender or "",
        spam_detected=message.spam_detected,
        spam_score=message.spam_score,
    )


REUSE_MARK = "\nsha256:"


def reused_message_id_key(message_id: str, digest: str) -> str:
    """The dedupe key of a mail that reuses a stored mail's Message-ID: the Message-ID plus its own hash."""
    return f"{message_id[: 1000 - len(REUSE_MARK) - len(digest)]}{REUSE_MARK}{digest}"


def reuses_message_id(inbound: InboundEmail) -> bool:
    return bool(inbound.message_id) and REUSE_MARK in inbound.dedupe_key


def _wake_key() -> str:
    return f"inbound:wake:{connection.settings_dict['NAME']}"


def wake_inbound_worker() -> bool:
    """See that a drain task will look at the mail committed so far: queue one, unless the flag says one is
    queued that has not started looking yet. Returns whether this call queued it.

    Why no mail is left behind: a drain task takes the flag down before its first look. So when this finds
    the flag up, the task that set it has not looked yet, and when it does it sees the mail committed
    before this call. Under a stream of mail that makes one queued task at a time, not one per mail."""
    from tickets.tasks import process_waiting_inbound

    key = _wake_key()
    if not cache.add(key, 1, WAKE_FLAG_SECONDS):
        return False
    try:
        process_waiting_inbound.delay()
    except Exception:
        cache.delete(key)  # nothing was queued: the next mail (or the sweep) must try again
        raise
    return True


def stale_waiting_count(*, limit: int = 1000) -> int:
    """How many stored mails (up to `limit`) have waited longer than STALE_AFTER with no drain working on
    them. Rows a live drain holds are locked and skipped, so this counts only mail that no task is applying:
    its wake-up was lost with the broker, or the worker running its drain died."""
    cutoff = timezone.now() - STALE_AFTER
    with transaction.atomic():
        waiting = InboundEmail.objects.filter(status=InboundEmail.Status.RECEIVED, received_at__lt=cutoff)
        return len(waiting.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])


def process_waiting_inbound(*, limit: int = BATCH_SIZE, drain_seconds: float = DRAIN_SECONDS) -> int:
    """The drain task: apply the waiting mail, `limit` per transaction, while `drain_seconds` last; past
    that, queue a fresh drain task for the rest. Returns how many mails it took."""
    cache.delete(_wake_key())  # before the first look: see `wake_inbound_worker`
    started = time.monotonic()
    total = 0
    lookups = _Lookups()
    while True:
        _, _, taken = _batch_transaction(None, limit, lookups)
        total += taken
        if taken < limit:
            return total
        if time.monotonic() - started >= drain_seconds:
            wake_inbound_worker()  # more may be waiting: a fresh task goes on, after what else is queued
            return total


def process_inbound(inbound_id: int, *, not_spam: bool = False) -> InboundEmail:
    """Parse one stored mail and apply it; a failure (running out of time included) is recorded on the row
    and re-raised. `not_spam` routes mail that an admin released from the spam view."""
    try:
        with transaction.atomic(), mail_time_limit():
            inbound = InboundEmail.objects.select_for_update().get(pk=inbound_id)
            _process_locked(inbound, depth=0, not_spam=not_spam, batch=_Batch())
            return inbound
    except Exception as exc:
        _mark_failed(inbound_id, exc)
        raise


def process_inbound_batch(inbound_id: int, *, limit: int = BATCH_SIZE, drain_seconds: float = DRAIN_SECONDS) -> str:
    """Apply one stored mail, and with it other mail still waiting (up to `limit` per transaction, more
    transactions while `drain_seconds` last); returns the given mail's status. A mail that fails is marked
    failed with its reason and the others are kept. When the given mail fails, that is re-raised after the
    batch commits (its task retries it); another mail that fails is retried by a task of its own."""
    status = InboundEmail.objects.filter(pk=inbound_id).values_list("status", flat=True).first()
    if status in DONE_STATUSES:
        return status  # applied already, in another task's batch: nothing to lock
    started = time.monotonic()
    lookups = _Lookups()
    own, own_error, taken = _batch_transaction(inbound_id, limit, lookups)
    while taken >= limit and time.monotonic() - started < drain_seconds:
        _, _, taken = _batch_transaction(None, limit, lookups)
    if own_error is not None:
        raise own_error
    assert own is not None  # the batch took the mail or raised its error
    return own.status


class _MailFailed(Exception):
    """A mail raised in a batch run without savepoints: the whole batch runs again, isolating each mail."""


_BatchResult = tuple[InboundEmail | None, Exception | None, int]


def _batch_transaction(own_id: int | None, limit: int, lookups: _Lookups) -> _BatchResult:
    """One transaction over a batch: (the row `own_id`, its error if it failed, how many rows it took).
    Mail rarely raises, so the batch first runs without a savepoint per mail (two statements fewer each);
    if one does raise, that run is rolled back whole and repeated with a savepoint around each mail."""
    try:
        return _locked_batch(own_id, limit, lookups, isolate=False)
    except _MailFailed:
        return _locked_batch(own_id, limit, lookups, isolate=True)
    except _MailTimedOut as timed_out:
        # Rolled back whole: mark the slow mail failed and let a fresh task apply the others (this one may
        # be past its own soft time limit).
        _mark_failed(timed_out.inbound_pk, timed_out.error)
        transaction.on_commit(wake_inbound_worker, robust=True)
        own_error = timed_out.error if timed_out.inbound_pk == own_id else None
        return InboundEmail.objects.filter(pk=own_id).first() if own_id else None, own_error, 0


def _locked_batch(own_id: int | None, limit: int, lookups: _Lookups, *, isolate: bool) -> _BatchResult:
    with transaction.atomic():
        own = None
        if own_id is not None:
            # Wait for the row as a single-mail task would; the others are only taken when nobody holds them.
            own = InboundEmail.objects.select_for_update().get(pk=own_id)
            if own.status in DONE_STATUSES:
                return own, None, 0
        others = _claim_waiting(
            limit - 1 if own else limit, exclude=own_id, budget=BATCH_BYTES - (len(own.raw) if own else 0)
        )
        rows = sorted([own, *others] if own else others, key=lambda row: (row.received_at, row.pk))
        batch = _Batch(lookups=lookups)
        try:
            own_error = _apply_batch(rows, own_id, isolate=isolate, batch=batch)
        except Exception:
            _forget_starts(batch.started)
            raise
        # Known final only once committed: a rolled-back batch reports nothing.
        transaction.on_commit(batch.committed)
        transaction.on_commit(partial(_forget_starts, batch.started), robust=True)
        return own, own_error, len(rows)


def _claim_waiting(limit: int, *, exclude: int | None, budget: int) -> list[InboundEmail]:
    """Lock up to `limit` received mails nobody else holds, oldest first, within `budget` raw bytes (the
    first one is taken whatever its size when there is no `exclude` row to go first)."""
    if limit <= 0:
        return []
    waiting = InboundEmail.objects.filter(status=InboundEmail.Status.RECEIVED)
    if exclude is not None:
        waiting = waiting.exclude(pk=exclude)
    candidates = waiting.order_by("received_at", "pk").annotate(size=Length("raw")).values_list("pk", "size")
    picked: list[int] = []
    for pk, size in candidates[:limit]:
        budget -= size or 0
        if budget < 0 and (picked or exclude is not None):
            break
        picked.append(pk)
    if not picked:
        return []
    # Rows another worker took meanwhile are skipped, and a row applied meanwhile no longer matches.
    claimed = InboundEmail.objects.select_for_update(skip_locked=True).filter(
        pk__in=picked, status=InboundEmail.Status.RECEIVED
    )
    return list(claimed)


def _apply_batch(rows: list[InboundEmail], own_pk: int | None, *, isolate: bool, batch: _Batch) -> Exception | None:
    """Apply each locked row; returns the error of row `own_pk`, if it failed. Without `isolate` the first
    error raises `_MailFailed` (the caller rolls back); with it each row runs in a savepoint and a failed
    row is marked failed, and one that is not `own_pk` gets a retry task of its own once the batch commits."""
    own_error: Exception | None = None
    starts = _unfinished_starts(rows)
    # Usually no mail of the batch was started before: all are counted at once (one round trip per batch).
    # When some were (their worker was killed), each mail is counted as it starts, so a kill counts only
    # the mail it happened in, and a mail that killed its worker twice is not started a third time.
    careful = any(starts.values())
    if rows and not careful:
        _mark_starts({_starts_key(row): 1 for row in rows})
        batch.started.extend(rows)
    if not isolate:
        # Nothing of a batch run without savepoints outlives a failed mail: the outcomes of its applied
        # mail are written together at its end. With savepoints each mail writes its own, inside its own.
        batch.finished = []
    for inbound in rows:
        if inbound.pk in batch.touched:
            inbound.refresh_from_db(fields=["status", "reason", "ticket", "processed_at", "attempts"])
        if careful and inbound.status not in DONE_STATUSES:
            count = starts[inbound.pk] + 1
            if count > MAX_UNFINISHED_STARTS:
                _finish(inbound, InboundEmail.Status.FAILED, _KILLED_REASON)
                batch.started.append(inbound)  # its count is forgotten with the others'
                continue
            _note_start(inbound, count, batch.started[-1] if batch.started else None)
            batch.started.append(inbound)
        if not isolate:
            try:
                with mail_time_limit():
                    _process_locked(inbound, depth=0, batch=batch)
            except TIME_LIMIT_ERRORS as exc:
                raise _MailTimedOut(inbound.pk, exc) from exc
            except Exception as exc:
                raise _MailFailed from exc
            continue
        # An acknowledgement sent for a mail that then fails is rolled back with it.
        acks_before = dict(batch.last_acks)
        try:
            with transaction.atomic(), mail_time_limit():
                _process_locked(inbound, depth=0, batch=batch)
        except TIME_LIMIT_ERRORS as exc:
            batch.last_acks = acks_before
            _mark_failed(inbound.pk, exc)
            if inbound.pk == own_pk:
                own_error = exc
            # The task may be past its soft time limit: what is applied commits, a fresh task goes on.
            transaction.on_commit(wake_inbound_worker, robust=True)
            break
        except Exception as exc:
            batch.last_acks = acks_before
            _mark_failed(inbound.pk, exc)
            if inbound.pk == own_pk:
                own_error = exc
            else:
                logger.warning("inbound mail %s failed in a batch: %s", inbound.pk, exc, exc_info=True)

                # A function, not a partial: Django names a robust callback that raised by its __qualname__.
                def retry(pk: int = inbound.pk) -> None:
                    _retry_later(pk)

                transaction.on_commit(retry, robust=True)
    batch.write_finished()
    return own_error


_KILLED_REASON = (
    f"processing was started {MAX_UNFINISHED_STARTS} times and never ended (the worker was stopped by the hard "
    "time limit, or died); the raw mail is kept for re-processing"
)


def _retry_later(inbound_id: int) -> None:
    from tickets.tasks import process_inbound_email

    process_inbound_email.apply_async((inbound_id,), countdown=RETRY_AFTER_SECONDS)


def _mark_failed(inbound_id: int, exc: Exception) -> None:
    InboundEmail.objects.filter(pk=inbound_id).exclude(status__in=DONE_STATUSES).update(
        status=InboundEmail.Status.FAILED, reason=f"{type(exc).__name__}: {exc}".replace("\x00", "")[:5000]
    )


def _set_outcome(inbound: InboundEmail, status: str, reason: str, ticket_id: int | None) -> None:
    inbound.status = status
    inbound.reason = reason
    inbound.ticket_id = ticket_id
    inbound.processed_at = timezone.now()


def _finish(
    inbound: InboundEmail,
    status: str,
    reason: str = "",
    ticket: Ticket | None = None,
    ticket_id: int | None = None,
    *,
    batch: _Batch | None = None,
) -> None:
    """Record a mail's outcome: at once, or with the rest of `batch`'s (`_Batch.finished`)."""
    _set_outcome(inbound, status, reason, ticket.pk if ticket is not None else ticket_id)
    if batch is not None and batch.finished is not None:
        batch.finished.append(inbound)
        return
    inbound.save(update_fields=["status", "reason", "ticket", "processed_at", "attempts"])


def _finish_applied(
    inbound: InboundEmail, ticket: Ticket, log: services.EventLog, batch: _Batch, *, touch_ticket: bool = True
) -> None:
    """`_finish` for a mail applied to `ticket`, flushing the mail's event log and (`touch_ticket`) writing
    the ticket's `last_message_at` and `updated_at`, set by `_apply`, in the same statement: at once, or
    with the rest of the batch's (`_Batch.finished`). A ticket this mail opened was inserted with them: it
    is not touched."""
    _set_outcome(inbound, InboundEmail.Status.PROCESSED, "", ticket.pk)
    touch = ticket if touch_ticket else None
    if batch.finished is None:
        db.finish_applied_mail(inbound, log.take(), touch=touch)
        return
    batch.finished.append(inbound)
    batch.finished_events += log.take()
    if touch is not None:
        # The ticket's two times as they are now: a later mail of the batch may change them in memory.
        batch.finished_touches.append((touch.pk, touch.last_message_at, touch.updated_at))


def _process_locked(inbound: InboundEmail, depth: int, *, batch: _Batch, not_spam: bool = False) -> None:
    if inbound.status in DONE_STATUSES:
        return
    inbound.attempts += 1
    parsed = parse_email(bytes(inbound.raw))
    if not not_spam and (inbound.spam_detected or _spam_header(parsed)):
        _finish(inbound, InboundEmail.Status.SPAM, f"spam verdict (score {inbound.spam_score})", batch=batch)
        return
    verdict = guards.classify(parsed)
    if verdict is not None:
        if verdict.kind == "bounce":
            batch.write_finished()  # its events are numbered after those of the mail before it
            bounced = _mark_bounced(verdict.bounced_message_ids, verdict.reason)
            reason = f"{verdict.reason}; marked {bounced} outbound message(s) bounced"
        else:
            reason = verdict.reason
        _finish(inbound, InboundEmail.Status.IGNORED, reason, batch=batch)
        return
    if not parsed.from_address:
        _finish(inbound, InboundEmail.Status.FAILED, "no sender address in From, Sender or Return-Path", batch=batch)
        return
    reused = reuses_message_id(inbound)
    if reused:
        # Its own mail: its Message-ID names another one, so it neither threads nor deduplicates by it.
        parsed = dataclasses.replace(parsed, message_id="")
    # Mailing lists and null senders: never acknowledged; their queue decides whether they are tickets.
    noise = guards.classify_noise(parsed, envelope_sender=inbound.envelope_sender)
    language = _mail_language(parsed)
    if noise is not None:
        queue = _route(inbound, parsed, language, batch)
        if queue.list_mail == Queue.ListMail.IGNORE:
            reason = f"{noise.reason}; queue {queue.slug} ignores such mail"
            _finish(inbound, InboundEmail.Status.IGNORED, reason, batch=batch)
            return
    if batch.awaits(_parent_ids(parsed)):
        batch.write_finished()  # a reply to a mail of this batch: its parent is applied, and must read so
    hints, requester = _thread_hints(parsed, language, wait_for_parents=depth == 0)
    if hints.duplicate_of is not None:
        reason = "duplicate of a stored message"
        _finish(inbound, InboundEmail.Status.PROCESSED, reason, ticket_id=hints.duplicate_of, batch=batch)
        return
    if depth == 0 and hints.parents_pending:
        _process_parents_first(parsed, batch)
        # The parents' messages exist now.
        hints, requester = _thread_hints(parsed, language, wait_for_parents=False)
    if requester is None:
        # The hints read again after its parents call it a duplicate: it is applied all the same, as before.
        requester = services.upsert_requester(parsed.from_address, parsed.from_name, language or "")
    # Every event this mail causes, from every service it goes through, in the order they happen: written
    # once, with the mail's own status (`_finish_applied`).
    log = services.EventLog()
    ticket, message, opened = _apply(
        inbound, parsed, batch, hints, log, requester, language=language, acknowledge=noise is None
    )
    if reused:
        log.add(ticket, Kind.MESSAGE_ID_REUSED, message=message, new=inbound.message_id)
    _finish_applied(inbound, ticket, log, batch, touch_ticket=not opened)


def _spam_header(parsed: ParsedEmail) -> bool:
    flag = str(parsed.headers.get("X-Spam-Flag", "") if parsed.headers else "").strip().lower()
    return flag == "yes"


def _parent_ids(parsed: ParsedEmail) -> list[str]:
    referenced = [parsed.in_reply_to, *parsed.references] if parsed.in_reply_to else parsed.references
    return [mid for mid in dict.fromkeys(referenced) if mid and mid != parsed.message_id]


def _thread_hints(
    parsed: ParsedEmail, language: str | None, *, wait_for_parents: bool
) -> tuple[_ThreadHints, tuple[Requester, bool] | None]:
    """The duplicate check and every thread lookup that does not depend on the requester, as one statement
    of independent sub-selects (each uses its own index), which also finds or creates the mail's requester
    (`services.upsert_requester`, taking the mail's language) unless the hints say the mail goes no further:
    a duplicate, or (`wait_for_parents`) a parent mail still waiting. (hints, (requester, created) or None);
    `_find_thread` applies the hints in order."""
    parents = _parent_ids(parsed)
    referenced = [m for m in [parsed.in_reply_to, *reversed(parsed.references)] if m]
    number = subject_ticket_number(parsed.subject)
    if not parsed.message_id and not parents and not referenced and number is None:
        return _ThreadHints(), services.upsert_requester(parsed.from_address, parsed.from_name, language or "")
    row, requester = db.thread_hints_and_requester(
        parsed.message_id,
        parents,
        DONE_STATUSES,
        referenced,
        number,
        email=parsed.from_address.strip(),
        name=parsed.from_name,
        language=language or "",
        now=timezone.now(),
        wait_for_parents=wait_for_parents,
    )
    return _ThreadHints(*row), requester


def _process_parents_first(parsed: ParsedEmail, batch: _Batch) -> None:
    """A reply processed before its parent (out-of-order delivery) waits for the parent to be applied."""
    referenced = _parent_ids(parsed)
    if not referenced:
        return
    pending = (
        InboundEmail.objects.select_for_update()
        .filter(dedupe_key__in=referenced)
        .exclude(status__in=DONE_STATUSES)
        .order_by("received_at")
    )
    # Each parent runs in a savepoint and writes its own outcome at once: a parent that fails rolls back
    # only what it wrote, and the batch reads the outcome back when it reaches the parent's row.
    batch.write_finished()
    deferred, batch.finished = batch.finished, None
    try:
        for parent in pending:
            batch.touched.add(parent.pk)
            try:
                with transaction.atomic():
                    _process_locked(parent, depth=1, batch=batch)
            except TIME_LIMIT_ERRORS:
                raise  # the reply's own time is up
            except Exception:
                logger.exception("parent mail %s failed while threading a reply", parent.pk)
    finally:
        batch.finished = deferred


def _mark_bounced(bounced_ids: tuple[str, ...], reason: str) -> int:
    count = 0
    for message in Message.objects.filter(message_id__in=bounced_ids, direction=Message.Direction.OUT):
        old = message.delivery_status
        message.delivery_status = Message.Delivery.BOUNCED
        message.delivery_error = reason[:2000]
        message.save(update_fields=["delivery_status", "delivery_error"])
        services.record_event(message.ticket, Kind.DELIVERY_CHANGED, old=old, new="bounced", message=message)
        count += 1
    return count


def _find_thread(parsed: ParsedEmail, requester: Requester, hints: _ThreadHints) -> Ticket | None:
    """The ticket this mail continues: by Message-ID headers, then the subject tag, then a prior reply
    that references this mail, then the same subject from the same requester."""
    # The tag alone is trusted only when the sender is that ticket's requester: tags are guessable.
    # Requesters are unique by address regardless of case, so comparing ids compares addresses.
    tagged = hints.tagged_ticket_id if hints.tagged_requester_id == requester.pk else None
    for ticket_id in (hints.parent_ticket_id, tagged, hints.child_ticket_id):
        if ticket_id is not None:
            return Ticket.objects.get(pk=ticket_id)
    if normalise_subject(parsed.subject) != " ".join(parsed.subject.split()).casefold():
        # Only a subject that carried a reply prefix is matched by subject.
        wanted = normalise_subject(parsed.subject)
        if wanted:
            recent = Ticket.objects.filter(
                requester=requester,
                status__in=Ticket.ACTIVE_STATUSES,
                created_at__gte=timezone.now() - SUBJECT_MATCH_WINDOW,
            ).order_by("-created_at")[:20]
            for ticket in recent:
                if normalise_subject(ticket.subject) == wanted:
                    return ticket
    return None


def _follow_merges(ticket: Ticket) -> Ticket:
    seen = set()
    while ticket.merged_into is not None and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    return ticket


def _choose_queue_cached(addresses: list[str], language: str | None, batch: _Batch) -> Queue:
    # One lookup per distinct address set and language in a drain (see `_Lookups`).
    key, queues = (tuple(addresses), language), batch.lookups.queues
    if key not in queues:
        queues[key] = choose_queue(addresses, language)
    return queues[key]


def choose_queue(addresses: list[str], language: str | None) -> Queue:
    """Routing, in three steps. 1. Address: the queues whose support addresses the mail was sent to (one
    of them that takes its language, when several share an address). 2. Language: with no such queue, a
    front-line queue that lists the mail's language (the default queue first, then the oldest). 3. The
    default queue (else the oldest front-line queue)."""
    candidates = list(Queue.objects.filter(addresses__overlap=addresses)) if addresses else []
    if candidates:
        by_language = [q for q in candidates if language and language in q.languages]
        return (by_language or candidates)[0]
    if language:
        speaking = (
            Queue.objects.filter(kind=Queue.Kind.FRONT_LINE, languages__contains=[language])
            .order_by("-is_default", "pk")
            .first()
        )
        if speaking is not None:
            return speaking
    default = Queue.objects.filter(is_default=True).first()
    if default is None:
        default = Queue.objects.filter(kind=Queue.Kind.FRONT_LINE).order_by("pk").first()
    if default is None:
        default, _ = Queue.objects.get_or_create(slug="default", defaults={"name": "Default", "is_default": True})
    return default


def _mail_language(parsed: ParsedEmail) -> str | None:
    """The language detected in the mail's subject and visible text, or None when there is neither."""
    visible_text = parsed.text or ""
    return detect_language(f"{parsed.subject}\n{visible_text}") if visible_text or parsed.subject else None


def _apply(
    inbound: InboundEmail,
    parsed: ParsedEmail,
    batch: _Batch,
    hints: _ThreadHints,
    log: services.EventLog,
    requester_row: tuple[Requester, bool],
    *,
    language: str | None,
    acknowledge: bool = True,
) -> tuple[Ticket, Message, bool]:
    """Apply a parsed mail to its ticket: (the ticket, the message stored, whether the mail opened the
    ticket). Its events go to `log`, for the caller to write with the mail's status. Without
    `acknowledge` no automatic acknowledgement is sent, whatever the queue says. The message, and a ticket
    it opens, take the mail's arrival time; its Date header is kept as `written_at`."""
    now = inbound.received_at
    written, date_fallback = mail_date(parsed.headers, now)
    visible_text = parsed.text or ""
    # The requester was found (or created) with the mail's thread hints (`_thread_hints`), taking `language`,
    # the one detected in the mail.
    requester, first_contact = requester_row
    language = language or requester.language or Language.PT

    ticket = _find_thread(parsed, requester, hints)
    new_ticket = False
    if ticket is not None:
        ticket = _follow_merges(ticket)
        parsed = _collapse_earlier_messages(parsed, ticket)
        visible_text = parsed.text or ""
        if ticket.status == Ticket.Status.CLOSED:
            closed = ticket
            ticket = _open(parsed, inbound, requester, language, batch, log, follow_up_of=closed, now=now)
            new_ticket = True
            _inherit_from_closed(ticket, closed, log)
    else:
        ticket = _open(parsed, inbound, requester, language, batch, log, now=now)
        new_ticket = True

    # Without inline images to point at, the HTML is final before the message exists: one INSERT, no UPDATE.
    html_ready = not any(part.content_id for part in parsed.attachments)
    html_fields = (
        {"body_html": sanitise_html(parsed.html_unsafe), "quoted_html": sanitise_html(parsed.quoted_html_unsafe)}
        if html_ready and (parsed.html_unsafe or parsed.quoted_html_unsafe)
        else {}
    )
    message = Message(
        ticket=ticket,
        direction=Message.Direction.IN,
        from_address=parsed.from_address[:254],
        from_name=parsed.from_name[:200],
        to_addresses=[a[:254] for a in parsed.to],
        cc_addresses=[a[:254] for a in parsed.cc],
        subject=parsed.subject,
        body_text=visible_text,
        quoted_text=parsed.quoted_text,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        inbound_email=inbound,
        language=language,
        # The ticket's `last_message_at`, to the microsecond (a new ticket was inserted with it).
        created_at=now,
        written_at=written,
        **html_fields,
    )
    message.save(force_insert=True)
    _store_attachments(message, parsed, html_ready=html_ready)
    # Sensitive content: lists compiled once per process; a clean mail costs no query.
    scan_message(message, parsed.attachments, log=log, rules_for=batch.lookups.escalation_rules)
    if not new_ticket:
        if ticket.status == Ticket.Status.SOLVED:
            services.update_ticket(ticket, actor=None, status=Ticket.Status.OPEN, log=log)
            log.add(ticket, Kind.REOPENED, old="solved", new="open", message=message)
        elif ticket.status == Ticket.Status.PENDING:
            services.update_ticket(ticket, actor=None, status=Ticket.Status.OPEN, log=log)
        # Written with the mail's own status in `_finish_applied`: one statement fewer per mail. Nothing
        # before then reads these two columns back from the row. A new ticket was inserted with them.
        # Imported history may arrive older than what the ticket holds: it never moves the ticket back.
        ticket.last_message_at = max(now, ticket.last_message_at) if ticket.last_message_at else now
        ticket.updated_at = timezone.now()
    sla.on_requester_message(ticket)
    received = {"from": parsed.from_address, "written_at": written.isoformat()}
    if date_fallback:
        received["date_fallback"] = date_fallback  # shown on the timeline in the reader's language
    log.add(ticket, Kind.MESSAGE_RECEIVED, message=message, new=received, created_at=now)
    if (
        new_ticket
        and acknowledge
        and now >= timezone.now() - ACKNOWLEDGE_WITHIN
        and ticket.queue.auto_acknowledge
        and not guards.suppresses_auto_responses(parsed.headers)
        and not batch.acknowledged_recently(requester, first_contact=first_contact)
    ):
        from tickets.email.outbound import queue_auto_acknowledgement

        # The ticket is new: this mail is its only message, so the acknowledgement answers it.
        sent_at = timezone.now()
        queue_auto_acknowledgement(ticket, requester, answering=message, limit_checked=True, log=log)
        batch.last_acks[requester.pk] = sent_at
    return ticket, message, new_ticket


def _collapse_earlier_messages(parsed: ParsedEmail, thread: Ticket) -> ParsedEmail:
    """The mail with the blocks that repeat an earlier message of its thread (the requester's or our replies,
    never an internal note) collapsed as history: one query, for a reply only."""
    if not parsed.whole_text and not parsed.whole_html:
        return parsed
    earlier = (
        Message.objects.filter(ticket=thread)
        .exclude(direction=Message.Direction.NOTE)
        .order_by("-created_at", "-pk")
        .values_list("body_text", flat=True)[:HISTORY_MESSAGES]
    )
    return collapse_history(parsed, earlier)


def _inherit_from_closed(follow_up: Ticket, closed: Ticket, log: services.EventLog) -> None:
    """A follow-up starts as restricted as the closed ticket it continues (sensitivity, legal hold, open
    escalations): its mail quotes that ticket's thread, so whoever may not read the one may not read the
    other. Before the new mail is stored, so it is never readable more widely, even within this transaction."""
    if not (
        closed.sensitivity or closed.legal_hold or closed.escalations.filter(status=Escalation.Status.OPEN).exists()
    ):
        return
    inherit_restrictions(follow_up, [closed], move_escalations=False, log=log)


def scan_message(
    message: Message,
    attachments=(),
    *,
    log: services.EventLog,
    rules_for: Callable[[], list[EscalationRule]] | None = None,
) -> Verdict:
    """The wellbeing scan of a new message; a flag and what it causes log their events to the mail's `log`.
    `rules_for` gives the active escalation rules a flag runs (see `_Lookups`); by default they are read."""
    verdict = classify_message(message, attachments)
    if verdict:
        store_verdict(message, verdict, log=log, rules=rules_for() if rules_for is not None else None)
    return verdict


def _route(inbound: InboundEmail, parsed: ParsedEmail, language: str | None, batch: _Batch) -> Queue:
    """The queue a new ticket from this mail goes to (see `choose_queue`)."""
    addresses = [inbound.envelope_recipient.lower(), *parsed.delivered_to, *parsed.to, *parsed.cc]
    return _choose_queue_cached([a for a in dict.fromkeys(addresses) if a], language, batch)


def _open(parsed, inbound, requester, language, batch: _Batch, log, follow_up_of=None, now=None) -> Ticket:
    queue = _route(inbound, parsed, language, batch)
    subject = parsed.subject or (parsed.text[:80].split("\n")[0] if parsed.text else "")
    return services.open_ticket(
        requester=requester,
        queue=queue,
        subject=subject,
        language=language,
        follow_up_of=follow_up_of,
        sla_policy_for=batch.sla_policy_for,
        log=log,
        last_message_at=now,
        opened_at=now,
    )


def _store_attachments(message: Message, parsed: ParsedEmail, *, html_ready: bool = False) -> None:
    cid_urls = {}
    for part in parsed.attachments:
        attachment = services.store_attachment(
            message,
            part.content,
            filename=part.filename,
            content_type=part.content_type,
            content_id=part.content_id,
            is_inline=part.is_inline,
        )
        if attachment.content_id:
            cid_urls[attachment.content_id] = attachment
    if html_ready:
        return
    html = parsed.html_unsafe
    for cid, attachment in cid_urls.items():
        html = html.replace(f"cid:{cid}", reverse("attachment", args=[attachment.pk]))
    if html or parsed.quoted_html_unsafe:
        message.body_html = sanitise_html(html)
        message.quoted_html = sanitise_html(parsed.quoted_html_unsafe)
        message.save(update_fields=["body_html", "quoted_html"])


def reprocess(inbound_ids) -> dict[str, int]:
    """Run failed, ignored or spam mail through the pipeline again (after a fix, or to release mail an
    admin judged not to be spam). Processed mail is left alone."""
    counts: dict[str, int] = {}
    for pk in inbound_ids:
        previous = InboundEmail.objects.filter(pk=pk).values_list("status", flat=True).first()
        if previous in (None, InboundEmail.Status.PROCESSED):
            continue
        InboundEmail.objects.filter(pk=pk).update(status=InboundEmail.Status.RECEIVED, reason="")
        try:
            status = process_inbound(pk, not_spam=previous == InboundEmail.Status.SPAM).status
        except Exception:
            status = InboundEmail.Status.FAILED
        counts[status] = counts.get(status, 0) + 1
    return counts
