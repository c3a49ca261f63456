"""A reply that carries an earlier message of its thread without any quote marker (mobile clients that paste
the previous message under the answer, our own reply pasted back) has that block collapsed as history, and
never a line the user wrote that is new. The shapes follow what Samsung Email and Gmail for Android send
when "include original message" is switched to plain pasting, and what people do by hand: the earlier text
rewrapped at 72 columns, quotes and apostrophes changed, blank lines dropped."""

import pytest

from tests.factories import QueueFactory, RequesterFactory
from tickets.email import quotes
from tickets.email.inbound import process_inbound, store_inbound
from tickets.models import InboundEmail, Message, Ticket

OUR_REPLY = """Olá, Ana!

Verificamos sua conta e o acesso foi liberado. Para entrar de novo, use a opção "Esqueci minha senha" na tela de login e siga as instruções que enviaremos para o seu e-mail cadastrado.

Se precisar de mais alguma coisa, é só responder esta mensagem.

Atenciosamente,
Equipe Acolhe"""  # noqa: E501  (stored as sent: one line per paragraph)

# Our reply pasted back under the answer, rewrapped, its quotes changed and its blank lines dropped.
PASTED = """Olá, Ana!
Verificamos sua conta e o acesso foi liberado. Para entrar de novo, use a opção 'Esqueci minha
senha' na tela de login e siga as instruções que enviaremos para o seu e-mail cadastrado.
Se precisar de mais alguma coisa, é só responder esta mensagem.
Atenciosamente,
Equipe Acolhe"""


def _split(reply: str, *earlier: str) -> quotes.TextSplit:
    return quotes.split_text(reply, quotes.History(earlier))


def test_our_reply_pasted_back_under_the_answer_is_collapsed_and_the_answer_stays():
    reply = f"Obrigada! Consegui entrar, mas agora o app pede um código que não chega.\n\n{PASTED}\n"
    split = _split(reply, OUR_REPLY)
    assert split.earlier
    assert split.new == "Obrigada! Consegui entrar, mas agora o app pede um código que não chega."
    assert "Verificamos sua conta" in split.quoted and "Equipe Acolhe" in split.quoted


def test_new_lines_written_after_or_between_pasted_history_stay_visible_in_order():
    reply = f"Consegui entrar.\n\n{PASTED}\n\nMais uma coisa: o código de verificação chega por SMS?\n"
    split = _split(reply, OUR_REPLY)
    assert split.new == "Consegui entrar.\n\nMais uma coisa: o código de verificação chega por SMS?"
    assert split.interleaved
    assert [quoted for quoted, _chunk in split.segments] == [False, True, False]


def test_a_line_that_adds_words_to_a_pasted_line_stays_visible_whole():
    # The user edited one line of the pasted text: that line is theirs.
    edited = PASTED.replace("Se precisar de mais alguma coisa", "Não! Se precisar de mais alguma coisa")
    split = _split(f"Não funcionou.\n\n{edited}\n", OUR_REPLY)
    assert "Não! Se precisar de mais alguma coisa, é só responder esta mensagem." in split.new
    assert "Verificamos sua conta" in split.quoted


def test_short_lines_that_happen_to_repeat_earlier_text_stay_visible():
    earlier = "Obrigada pela ajuda, equipe Acolhe!\nAtenciosamente,\nAna"
    reply = "Obrigada pela ajuda, equipe Acolhe!\nO problema voltou hoje de manhã.\nAtenciosamente,\nAna"
    split = _split(reply, earlier)
    assert not split.earlier
    assert split.new == reply


def test_the_same_mail_sent_again_is_shown_whole_not_emptied():
    split = _split(OUR_REPLY, OUR_REPLY)
    assert not split.earlier
    assert "Verificamos sua conta" in split.new


def test_text_after_a_forward_marker_is_never_compared():
    reply = f"Veja abaixo.\n\n---------- Forwarded message ---------\n{PASTED}\n"
    split = _split(reply, OUR_REPLY)
    assert not split.earlier
    assert "Verificamos sua conta" in split.new


def test_a_block_already_quoted_with_markers_is_left_to_the_markers():
    reply = "Certo.\n\n" + "\n".join(f"> {line}" for line in PASTED.splitlines()) + "\n"
    with_history, without = _split(reply, OUR_REPLY), quotes.split_text(reply)
    assert not with_history.earlier
    assert (with_history.new, with_history.quoted) == (without.new, without.quoted)


def test_a_long_reply_against_a_long_thread_reads_a_bounded_number_of_words():
    # Hostile or huge mail: the comparison stops at MAX_HISTORY_WORDS words on each side, and a line it did
    # not read to its end stays visible, with all that follows.
    earlier = " ".join(f"palavra{i}" for i in range(200_000))
    split = _split(earlier.replace("palavra20000 ", "palavra20000\n") + "\nfim", earlier)
    assert split.earlier
    assert split.quoted.endswith("palavra20000")
    assert split.new.startswith("palavra20001 ") and split.new.endswith("palavra199999\nfim")


# --- through the inbound pipeline ---------------------------------------------------------------------------

MULTIPART = (
    "From: Ana Lima <ana.lima@example.com>\r\nTo: suporte@acolhe.example\r\nSubject: Re: Acesso bloqueado\r\n"
    "Message-ID: <history.{n}@example.com>\r\nIn-Reply-To: <acolhe.hist@acolhe.example>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n"
    "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n--b--\r\n"
)


@pytest.fixture
def thread(db):
    queue = QueueFactory(slug="suporte", languages=["pt"], addresses=["suporte@acolhe.example"], is_default=True)
    ticket = Ticket.objects.create(
        subject="Acesso bloqueado", queue=queue, status=Ticket.Status.PENDING,
        requester=RequesterFactory(email="ana.lima@example.com", name="Ana Lima"),
    )  # fmt: skip
    Message.objects.create(
        ticket=ticket, direction="out", message_id="<acolhe.hist@acolhe.example>", body_text=OUR_REPLY
    )
    Message.objects.create(ticket=ticket, direction="note", body_text="Nota interna: " + PASTED)
    return ticket


def _receive(text: str, n: int = 1) -> Message:
    html = "".join(f"<div>{line}</div>" if line else "<div><br></div>" for line in text.split("\n"))
    raw = MULTIPART.format(n=n, text=text.replace("\n", "\r\n"), html=html).encode("utf-8")
    inbound, _ = store_inbound(raw, esp="test", enqueue=False)
    inbound = process_inbound(inbound.pk)
    assert inbound.status == InboundEmail.Status.PROCESSED, inbound.reason
    return Message.objects.get(inbound_email=inbound)


def test_a_mobile_reply_with_our_reply_pasted_below_shows_only_the_answer(thread):
    message = _receive(f"Consegui entrar, obrigada! Mas o app pede um código que não chega.\n\n{PASTED}")
    assert message.ticket == thread
    assert message.body_text == "Consegui entrar, obrigada! Mas o app pede um código que não chega."
    assert "Verificamos sua conta" in message.quoted_text
    # The HTML shows the split text, the pasted reply collapsed where it was, after the answer.
    html = message.body_html
    assert html.index("Mas o app pede um código") < html.index("<details>") < html.index("Verificamos sua conta")
    assert message.quoted_html == ""


def test_the_scan_still_reads_a_collapsed_block(thread):
    # The requester's own earlier message, pasted back under a new line: collapsed, and still scanned.
    earlier = (
        "Eu não aguento mais, estou pensando em me matar. Ninguém responde minhas mensagens e eu já "
        "perdi tudo o que tinha nessa conta."
    )
    Message.objects.create(ticket=thread, direction="in", body_text=earlier, from_address="ana.lima@example.com")
    message = _receive(f"Alguém pode me responder?\n\n{earlier}", n=2)
    assert message.body_text == "Alguém pode me responder?"
    assert "pensando em me matar" in message.quoted_text
    assert "self_harm" in message.sensitivity["categories"]
    assert "self_harm" in Ticket.objects.get(pk=thread.pk).sensitivity


def test_an_internal_note_is_never_taken_as_history(thread):
    thread.messages.filter(direction="out").delete()
    message = _receive(f"Consegui entrar.\n\n{PASTED}", n=3)
    assert "Verificamos sua conta" in message.body_text
    assert message.quoted_text == ""
