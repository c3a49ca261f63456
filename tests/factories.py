"""factory-boy factories for every core model, in one place."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tickets.models import Message, Profile, Queue, Requester, Role, Team, Ticket


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"associate{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@acolhe.example")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])
        if create:
            self.save()

    @factory.post_generation
    def queues(self, create, extracted, **kwargs):
        if create and extracted:
            for queue in extracted:
                queue.members.add(self)


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory)
    languages = ["pt", "en"]


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Queue {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")
    languages = ["pt"]


class RequesterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requester

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name", locale="pt_BR")
    language = "pt"


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    subject = factory.Faker("sentence", locale="pt_BR")
    queue = factory.SubFactory(QueueFactory)
    requester = factory.SubFactory(RequesterFactory)
    language = "pt"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    direction = Message.Direction.IN
    from_address = factory.LazyAttribute(lambda m: m.ticket.requester.email)
    body_text = factory.Faker("paragraph", locale="pt_BR")


def associate(queues=(), username=None, **kwargs):
    params = {"role": Role.ASSOCIATE, "queues": list(queues), **kwargs}
    if username:
        params["username"] = username
    return UserFactory(**params)


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tickets.SlaPolicy"

    name = factory.Sequence(lambda n: f"SLA {n}")
    first_response_minutes = 60
    next_response_minutes = 120
    resolution_minutes = 24 * 60
    warning_percent = 75


class EscalationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tickets.EscalationRule"

    name = factory.Sequence(lambda n: f"Rule {n}")
    trigger = "sla_breach"


class SOPFactory(factory.django.DjangoModelFactory):
    """An SOP without versions: add them with `sop.services.create_version`, as the pages do."""

    class Meta:
        model = "sop.SOP"
        django_get_or_create = ["slug"]
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Procedure {n}")
    slug = factory.Sequence(lambda n: f"procedure-{n}")
    category = "account"

    @factory.post_generation
    def queues(self, create, extracted, **kwargs):
        if create and extracted:
            self.queues.add(*extracted)


class MacroFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "sop.Macro"

    name = factory.Sequence(lambda n: f"Macro {n}")
    body_pt = "Oi, {{ requester.first_name }}! Aqui é {{ agent.first_name }}, sobre o chamado #{{ ticket.number }}."
    body_en = "Hi {{ requester.first_name }}! This is {{ agent.first_name }} about ticket #{{ ticket.number }}."
