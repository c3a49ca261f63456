"""gunicorn settings for the image: `gunicorn -c python:helpdesk.gunicorn_conf helpdesk.wsgi`.

With `PROMETHEUS_MULTIPROC_DIR` set (an empty directory, e.g. an emptyDir or tmpfs), every worker writes its
request metrics there and `/metrics` adds them up; a worker that exits is marked dead so that its gauges go.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
accesslog = "-"


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
