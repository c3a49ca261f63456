"""Property-based requests generated from the OpenAPI schema, against the live server: no 5xx, whatever the
input. Bounded: a few examples per operation, a time budget for the whole run."""

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token

from tests.factories import MessageFactory, QueueFactory, TicketFactory, UserFactory
from tickets.models import Role

pytestmark = pytest.mark.django_db(transaction=True)
EXAMPLES_PER_OPERATION = 6
BUDGET_SECONDS = 45


def test_no_api_operation_answers_5xx_to_generated_input(live_server, clear_cache):
    queue = QueueFactory(slug="suporte")
    admin = UserFactory(username="root", role=Role.ADMIN, queues=[queue])
    ticket = TicketFactory(queue=queue)
    MessageFactory(ticket=ticket)
    headers = {"Authorization": f"Token {Token.objects.create(user=admin).key}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    schema.config.update(base_url=live_server.url)
    started, failures, calls = time.monotonic(), [], 0

    for result in schema.get_all_operations():
        operation = result.ok()
        if time.monotonic() - started > BUDGET_SECONDS:
            break

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            nonlocal calls
            calls += 1
            response = case.call(headers=headers, timeout=20)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")

        call()
    assert calls > 50  # the run did exercise the API
    assert not failures, failures
