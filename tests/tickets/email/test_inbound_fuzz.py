"""Random and mutated MIME never crashes the pipeline: every input ends processed, ignored, spam or
failed-with-a-reason, and the raw bytes are always kept."""

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import QueueFactory
from tickets.email.inbound import process_inbound, store_inbound
from tickets.models import InboundEmail

MAIL = Path(__file__).resolve().parents[2] / "fixtures" / "mail"
SEEDS = [p.read_bytes() for p in sorted(MAIL.glob("*.eml"))][:30] or [b"From: a@example.com\r\n\r\nhi"]
HEADERS = [b"From", b"To", b"Subject", b"Message-ID", b"In-Reply-To", b"References", b"Content-Type",
           b"Content-Transfer-Encoding", b"Content-Disposition", b"Auto-Submitted", b"MIME-Version"]  # fmt: skip
FINAL = {InboundEmail.Status.PROCESSED, InboundEmail.Status.IGNORED, InboundEmail.Status.SPAM}


@st.composite
def mutated_mail(draw):
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        choice = draw(st.integers(0, 3))
        position = draw(st.integers(0, max(0, len(raw) - 1)))
        if choice == 0 and raw:  # flip bytes
            raw[position] = draw(st.integers(0, 255))
        elif choice == 1:  # cut
            del raw[position : position + draw(st.integers(1, 400))]
        elif choice == 2:  # splice a random header line
            name = draw(st.sampled_from(HEADERS))
            value = draw(st.binary(max_size=80)).replace(b"\r", b"").replace(b"\n", b" ")
            raw[position:position] = name + b": " + value + b"\r\n"
        else:  # random junk
            raw[position:position] = draw(st.binary(max_size=200))
    return bytes(raw)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(mutated_mail(), st.binary(max_size=2000)))
def test_any_input_ends_in_a_final_state_with_its_raw_bytes_kept(raw):
    QueueFactory(slug="suporte", addresses=["suporte@acolhe.example"], is_default=True)
    # Examples share one database: a mutant that kept an earlier example's Message-ID is (rightly) a duplicate.
    inbound, created = store_inbound(raw, esp="fuzz", enqueue=False)
    with contextlib.suppress(Exception):  # a failure is recorded on the row, which is what we check
        process_inbound(inbound.pk)
    inbound.refresh_from_db()
    assert inbound.status in FINAL | {InboundEmail.Status.FAILED}
    if inbound.status == InboundEmail.Status.FAILED:
        assert inbound.reason
    if created:
        assert bytes(inbound.raw) == raw
