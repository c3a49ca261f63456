import functools
import os

from celery import Celery, signals
from celery.worker.consumer import Consumer
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Celery runs Django's system checks when a worker starts (a few hundred milliseconds, URL conf included)
# unless this is set. They guard against mistakes in code and settings that `manage.py check` and the web
# processes report already; a worker that restarts under load should be taking mail instead.
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")


class QuickReconnectConsumer(Consumer):
    """The worker's consumer, reconnecting to a broker that went away every second instead of kombu's
    2, 4, 6 ... 30 s steps: after a 20 s Redis outage those steps left the worker idle for about 11 s more."""

    def ensure_connected(self, conn):
        conn.ensure_connection = functools.partial(
            conn.ensure_connection, interval_start=0.5, interval_step=0.5, interval_max=1
        )
        return super().ensure_connected(conn)


app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Celery's Django fix-up closes the database connection before and after every task unless told to reuse
# it, and a new PostgreSQL connection costs more than most of our tasks. Keep it (the fix-up still starts
# afresh every thousand tasks); between tasks Django's own rules decide, as between requests below.
app.conf.CELERY_DB_REUSE_MAX = 1000


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender=None, **kwargs) -> None:
    """What Django does around each request: drop a connection past CONN_MAX_AGE, or one that failed its
    health check or was left with a broken transaction state. Eager calls run inside the caller's
    transaction and are left alone."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    close_old_connections()


@signals.worker_process_init.connect
@signals.worker_ready.connect
def _settle(**kwargs) -> None:
    """A worker process that runs tasks (a prefork child, or the solo pool's one process) freezes what it
    loaded out of the garbage collector's full walks before its first task (`helpdesk.settle`)."""
    from helpdesk.settle import settle

    settle(views=False)


# Task run times and failures for Prometheus (recorded only while ACOLHE_PROMETHEUS_ENABLED is on).
from helpdesk import prometheus  # noqa: E402, F401
