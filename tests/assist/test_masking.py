"""Masking personal data before a prompt leaves and restoring it in the answer.

The shapes are those people write in support mail: addresses with display names, plus-tags, subdomains and
upper case (RFC 5322 allows them all); Brazilian phone numbers as Anatel numbers them (two-digit area code,
optional leading 0, landlines of 4+4 digits, mobiles with the leading 9), international numbers with "+";
CPF as the Receita Federal prints it (000.000.000-00) and as people type it (digits only, spaces).
"""

import pytest

from assist.provider import Masker

SHAPES = [
    ("EMAIL", "Escreva para Joana <joana.silva+conta@exemplo.com.br> já", "joana.silva+conta@exemplo.com.br"),
    ("EMAIL", "MARIA.Souza@Mail.Example.ORG escreveu:", "MARIA.Souza@Mail.Example.ORG"),
    ("EMAIL", "> On Mon, x_y-99@sub.mail.example.org wrote:", "x_y-99@sub.mail.example.org"),
    # Local parts RFC 5322 allows beyond letters and dots; an address literal; a host without dots.
    ("EMAIL", "responda a o'neil!ops#2=x@exemplo.com.br.", "o'neil!ops#2=x@exemplo.com.br"),
    ("EMAIL", "From: SRS0=aO/p=ON=bag.python.org=x@pobox.com", "SRS0=aO/p=ON=bag.python.org=x@pobox.com"),
    ("EMAIL", "mande para <admin@[192.168.0.10]> hoje", "admin@[192.168.0.10]"),
    ("EMAIL", "root@servidor-interno escreveu", "root@servidor-interno"),
    ("CPF", "meu CPF é 123.456.789-09.", "123.456.789-09"),
    ("CPF", "cpf 12345678909", "12345678909"),
    ("CPF", "CPF: 123 456 789 09", "123 456 789 09"),
    ("PHONE", "celular (11) 98765-4321, obrigado", "(11) 98765-4321"),
    ("PHONE", "fixo 21 3333-4444", "21 3333-4444"),
    ("PHONE", "liga no 011 9 8765 4321", "011 9 8765 4321"),
    ("PHONE", "WhatsApp +55 (11) 91234-5678", "+55 (11) 91234-5678"),
    ("PHONE", "call me at +1 415 555 0132 tomorrow", "+1 415 555 0132"),
    ("PHONE", "office +44 20 7946 0958.", "+44 20 7946 0958"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "text", "value"), SHAPES)
def test_each_shape_is_masked_and_restored(kind, text, value):
    masker = Masker()
    masked = masker.mask(text)
    assert value not in masked
    assert f"[{kind}_1]" in masked
    assert masker.restore(masked) == text


def test_the_same_value_gets_the_same_placeholder_across_texts():
    masker = Masker()
    first = masker.mask("de a@b.com.br para c@d.org")
    second = masker.mask("cópia para a@b.com.br")
    assert first == "de [EMAIL_1] para [EMAIL_2]"
    assert second == "cópia para [EMAIL_1]"
    assert masker.restore("Oi [EMAIL_2], copiamos [EMAIL_1].") == "Oi c@d.org, copiamos a@b.com.br."


def test_a_placeholder_the_model_made_up_is_left_as_it_is():
    masker = Masker()
    masker.mask("a@b.com")
    assert masker.restore("[EMAIL_1] e [EMAIL_7]") == "a@b.com e [EMAIL_7]"


def test_ticket_numbers_dates_and_times_are_not_masked():
    text = "Chamado #1234 de 07/12/2026 às 14:30, versão 2.3.1, 50% do upload"
    assert Masker().mask(text) == text


def test_a_huge_message_is_masked_in_bounded_time():
    text = ("palavra 1234 " * 50_000) + "fim a@b.com"
    masked = Masker().mask(text)
    assert masked.endswith("fim [EMAIL_1]")


def test_a_long_run_of_address_characters_is_masked_in_bounded_time():
    # Matching starts only where a run of address characters starts: 200,000 letters before the "@" are
    # read once, not once per letter.
    text = "x" * 200_000 + "@b.com e " + "y." * 100_000
    assert Masker().mask(text).startswith("[EMAIL_1] e ")
