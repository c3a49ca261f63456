"""The whole corpus (tests/fixtures/mail and its groups) through each ESP's inbound endpoint: the raw mail
is stored byte for byte, and no name, subject or body read from it holds a Unicode replacement character
unless the raw bytes held one. (`test_inbound_corpus.py` does the same through `import_mail`.)

Every mail of an endpoint is posted first and then applied by one drain, as the worker does after a burst:
no worker round trip per mail, so the 183 mails take seconds per endpoint."""

import hashlib

import pytest

from tests.tickets.email.test_inbound_corpus import GROUPS, MAIL, REPLACEMENT
from tests.tickets.email.test_inbound_raw_bytes import BYTE_POSTERS
from tests.tickets.email.test_webhooks import (  # noqa: F401  (the autouse fixture switches every ESP on)
    _postmark,
    _webhooks,
    sns_signing,
)
from tickets.email.inbound import process_waiting_inbound
from tickets.models import Attachment, InboundEmail, Message

pytestmark = pytest.mark.django_db

CORPUS = {
    str(path.relative_to(MAIL)): path.read_bytes() for group in GROUPS for path in sorted((MAIL / group).glob("*.eml"))
}


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Postmark posts JSON, which carries text: it can only bring a mail as it was when the mail is UTF-8
# (5 of the corpus are 8-bit in another charset; the byte endpoints carry those).
POSTERS = {
    **BYTE_POSTERS,
    "postmark": lambda client, raw, sns: _postmark(client, raw.decode("utf-8")),
}
CARRIES = {name: (lambda raw: True) for name in BYTE_POSTERS} | {"postmark": _utf8}


def _readable(raw: bytes, *texts: str) -> bool:
    return REPLACEMENT.encode() in raw or not any(REPLACEMENT in (text or "") for text in texts)


@pytest.mark.parametrize("endpoint", POSTERS)
def test_no_mail_in_the_corpus_comes_out_of_an_esp_endpoint_altered_or_with_replacement_characters(
    client,
    endpoint,
    sns_signing,  # noqa: F811
):
    posted = {name: raw for name, raw in CORPUS.items() if CARRIES[endpoint](raw)}
    assert len(posted) >= (150 if endpoint == "postmark" else len(CORPUS))
    for name, raw in posted.items():
        response = POSTERS[endpoint](client, raw, sns_signing)
        assert response.status_code == 200, name
    by_digest = {hashlib.sha256(raw).hexdigest(): name for name, raw in posted.items()}
    stored = list(InboundEmail.objects.all())
    # Every mail kept as the bytes the ESP posted, none twice, none lost.
    assert sorted(row.raw_sha256 for row in stored) == sorted(by_digest)
    for row in stored:
        assert hashlib.sha256(bytes(row.raw)).hexdigest() == row.raw_sha256

    process_waiting_inbound(drain_seconds=3600)

    assert not InboundEmail.objects.filter(status=InboundEmail.Status.RECEIVED).exists()
    read = 0
    for message in Message.objects.filter(inbound_email__isnull=False).select_related(
        "inbound_email", "ticket__requester"
    ):
        raw = bytes(message.inbound_email.raw)
        name = by_digest[message.inbound_email.raw_sha256]
        texts = (message.from_name, message.subject, message.body_text, message.quoted_text, message.body_html,
                 message.quoted_html, message.ticket.subject, message.ticket.requester.name)  # fmt: skip
        assert _readable(raw, *texts), name
        names = Attachment.objects.filter(message=message).values_list("filename", flat=True)
        assert _readable(raw, *names), (name, list(names))
        read += 1
    assert read >= 120
