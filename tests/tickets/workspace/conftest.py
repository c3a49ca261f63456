import pytest

from tests.factories import QueueFactory, associate


@pytest.fixture
def queue():
    """The queue most tests here work in (a module may define its own)."""
    return QueueFactory(slug="suporte", name="Suporte")


@pytest.fixture
def agent(queue):
    """An associate of that queue, with a full name (a module may define its own)."""
    return associate([queue], username="bia", first_name="Bia", last_name="Souza")
