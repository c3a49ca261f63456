import pytest

from sop import services
from tests.factories import QueueFactory, SOPFactory, TicketFactory, UserFactory, associate
from tickets.models import Role


@pytest.fixture
def suporte():
    return QueueFactory(slug="suporte", name="Suporte (pt-BR)", languages=["pt"])


@pytest.fixture
def support():
    return QueueFactory(slug="support", name="Support (English)", languages=["en"])


@pytest.fixture
def lead(suporte, support):
    user = UserFactory(username="lead.ana", first_name="Ana", role=Role.TEAM_LEAD)
    suporte.members.add(user)
    support.members.add(user)
    return user


@pytest.fixture
def maria(suporte):
    return associate([suporte], username="maria", first_name="Maria")


@pytest.fixture
def hacked_sop(suporte, support, lead):
    """An SOP for hacked accounts in both languages, published, with a required step."""
    sop = SOPFactory(
        slug="hacked-account",
        title="Hacked account",
        queues=[suporte, support],
        tags=["conta-invadida", "hacked-account"],
    )
    pt = services.create_version(
        sop,
        language="pt",
        title="Conta invadida",
        body="Bloqueie a conta e envie o **link seguro**.",
        steps=[("Confirmar a identidade do titular", True), ("Bloquear a conta", False)],
        actor=lead,
    )
    services.publish_version(pt)
    en = services.create_version(
        sop,
        language="en",
        title="Hacked account",
        body="Lock the account and send the **secure link**.",
        steps=[("Verify the owner's identity", True), ("Lock the account", False)],
        actor=lead,
    )
    services.publish_version(en)
    return sop


@pytest.fixture
def pt_ticket(suporte):
    return TicketFactory(
        queue=suporte, language="pt", tags=["conta-invadida"], requester__name="João Pedro", subject="Invadida"
    )
