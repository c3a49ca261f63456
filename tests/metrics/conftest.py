from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from metrics.models import Criterion, Scorecard
from tests.factories import QueueFactory, SlaPolicyFactory, TeamFactory, UserFactory, associate
from tickets.models import Profile, Role

SP = ZoneInfo("America/Sao_Paulo")


def sp(*args) -> datetime:
    return datetime(*args, tzinfo=SP)


@pytest.fixture
def team():
    return TeamFactory(name="Time Brasil")


@pytest.fixture
def queue(team):
    return QueueFactory(slug="suporte", name="Suporte", team=team, addresses=["suporte@acolhe.example"])


@pytest.fixture
def policy(queue):
    return SlaPolicyFactory(queue=queue, first_response_minutes=60, next_response_minutes=None, resolution_minutes=60)


def _member(username, queue, team, role=Role.ASSOCIATE, **kwargs):
    user = UserFactory(username=username, role=role, queues=[queue], **kwargs)
    Profile.objects.update_or_create(user=user, defaults={"team": team, "languages": ["pt", "en"]})
    return user


@pytest.fixture
def ana(queue, team):
    return _member("ana", queue, team, first_name="Ana", last_name="Souza")


@pytest.fixture
def bia(queue, team):
    return _member("bia", queue, team, first_name="Bia", last_name="Lima")


@pytest.fixture
def lead(queue, team):
    user = _member("lead.carla", queue, team, role=Role.TEAM_LEAD, first_name="Carla", last_name="Lead")
    team.leads.add(user)
    return user


@pytest.fixture
def outsider():
    other_queue = QueueFactory(slug="support", name="Support")
    return associate([other_queue], username="john")


@pytest.fixture
def scorecard():
    card = Scorecard.objects.create(name="Front line")
    Criterion.objects.create(scorecard=card, position=1, name="Correct resolution", weight=3)
    Criterion.objects.create(scorecard=card, position=2, name="SOP followed", weight=2)
    Criterion.objects.create(scorecard=card, position=3, name="Warm and on-brand tone", weight=1)
    Criterion.objects.create(scorecard=card, position=4, name="Grammar in the user's language", weight=1)
    return card
