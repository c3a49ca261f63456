"""The SLA sweep's next check lives in a table of its own: the sweep moves it without rewriting the ticket,
skips tickets and checks others hold without waiting, and the migration carries existing times over."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from tests.factories import QueueFactory, RequesterFactory, SlaPolicyFactory
from tickets import services, sla
from tickets.models import SlaAlert, SlaCheck, Ticket

SP = ZoneInfo("America/Sao_Paulo")
START = datetime(2025, 3, 10, 9, 0, tzinfo=SP)


def open_ticket(queue) -> Ticket:
    return services.open_ticket(requester=RequesterFactory(), queue=queue, subject="Conta bloqueada", language="pt")


def first_response_ticket() -> Ticket:
    queue = QueueFactory()
    SlaPolicyFactory(queue=queue, first_response_minutes=60, resolution_minutes=None, warning_percent=75)
    with time_machine.travel(START, tick=False):
        return open_ticket(queue)


def row_version(ticket: Ticket) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ctid::text FROM {Ticket._meta.db_table} WHERE id = %s", [ticket.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_sweep_moves_the_check_without_rewriting_the_ticket():
    ticket = first_response_ticket()
    assert SlaCheck.objects.get(ticket=ticket).next_check_at == START + timedelta(minutes=45)
    version = row_version(ticket)

    assert sla.sweep(now=START + timedelta(minutes=50)).warnings == 1
    assert SlaCheck.objects.get(ticket=ticket).next_check_at == START + timedelta(minutes=60)
    assert sla.sweep(now=START + timedelta(minutes=60)).breaches == 1
    assert not SlaCheck.objects.filter(ticket=ticket).exists()
    assert row_version(ticket) == version


@pytest.mark.django_db
def test_clock_changes_keep_the_check_in_step_and_the_ticket_reads_it():
    ticket = first_response_ticket()
    assert ticket.sla_next_check_at == START + timedelta(minutes=45)
    with time_machine.travel(START + timedelta(minutes=10), tick=False):
        sla.on_public_reply(ticket)
    assert ticket.sla_next_check_at is None
    assert not SlaCheck.objects.filter(ticket=ticket).exists()
    assert Ticket.objects.get(pk=ticket.pk).sla_next_check_at is None


@pytest.mark.django_db
def test_deleting_a_ticket_deletes_its_check():
    ticket = first_response_ticket()
    ticket.delete()
    assert not SlaCheck.objects.exists()


def _hold_in_another_connection(sql: str, params: list, held: threading.Event, release: threading.Event) -> None:
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(sql, params)
            held.set()
            release.wait(timeout=30)
            cursor.execute("ROLLBACK")
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "held_row",
    [
        pytest.param(f"SELECT 1 FROM {Ticket._meta.db_table} WHERE id = %s FOR NO KEY UPDATE", id="ticket-edited"),
        pytest.param(f"SELECT 1 FROM {SlaCheck._meta.db_table} WHERE ticket_id = %s FOR UPDATE", id="check-held"),
    ],
)
def test_the_sweep_skips_rows_others_hold_without_waiting_and_catches_up_later(held_row):
    ticket = first_response_ticket()
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_in_another_connection, args=(held_row, [ticket.pk], held, release))
    holder.start()
    try:
        assert held.wait(timeout=10)
        with connection.cursor() as cursor:
            # Waiting for the held row would fail the statement instead of hanging the test.
            cursor.execute("SET lock_timeout = '2s'")
        assert sla.sweep(now=START + timedelta(hours=2)).tickets == 0
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    result = sla.sweep(now=START + timedelta(hours=2))
    assert (result.tickets, result.warnings, result.breaches) == (1, 1, 1)
    assert SlaAlert.objects.filter(ticket=ticket).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_migration_carries_next_checks_over_and_back():
    before, after = [("tickets", "0011_fewer_write_indexes")], [("tickets", "0012_sla_check")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        queue = old.get_model("tickets", "Queue").objects.create(name="Geral", slug="geral")
        requester = old.get_model("tickets", "Requester").objects.create(email="ana@example.com")
        OldTicket = old.get_model("tickets", "Ticket")
        checked = OldTicket.objects.create(queue=queue, requester=requester, sla_next_check_at=START)
        unchecked = OldTicket.objects.create(queue=queue, requester=requester)

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps
        checks = new.get_model("tickets", "SlaCheck").objects.values_list("ticket_id", "next_check_at")
        assert list(checks) == [(checked.pk, START)]

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        restored = dict(OldTicket.objects.values_list("pk", "sla_next_check_at"))
        assert restored == {checked.pk: START, unchecked.pk: None}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
