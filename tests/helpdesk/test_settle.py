"""A web or Celery worker process freezes what it loaded at start out of the garbage collector's full walks
(`helpdesk.settle`)."""

import gc
import os
import subprocess
import sys

from celery import signals

from helpdesk import celery
from helpdesk.settings import BASE_DIR
from helpdesk.settle import settle


def test_settle_freezes_what_the_process_holds():
    """The suite's own process settled once configured (tests/conftest.py); what was made since is frozen now
    (and stays so: unfreezing would also undo the suite's freeze)."""
    before = gc.get_freeze_count()
    settle(views=False)
    assert gc.get_freeze_count() > before


def test_a_web_worker_loads_the_views_and_freezes_them_when_it_loads_the_application():
    """What a gunicorn worker does after it forks: import `helpdesk.wsgi`."""
    probe = (
        "import gc, sys\n"
        "assert gc.get_freeze_count() == 0\n"
        "import helpdesk.wsgi\n"
        "print(gc.get_freeze_count(), 'tickets.workspace.views' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=BASE_DIR, env=os.environ.copy(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    frozen, views_loaded = result.stdout.split()[-2:]
    # Django, the apps, their URL patterns and views: well over 10,000 objects.
    assert int(frozen) > 10_000
    assert views_loaded == "True"


def test_a_celery_worker_process_settles_before_its_first_task(monkeypatch):
    called = []
    monkeypatch.setattr("helpdesk.settle.settle", lambda **kwargs: called.append(kwargs))
    for signal in (signals.worker_process_init, signals.worker_ready):
        assert any(receiver() is celery._settle for _key, receiver in signal.receivers)
    celery._settle()
    assert called == [{"views": False}]
