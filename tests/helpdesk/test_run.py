"""`make run` ends with the address and the demo logins, printed once the site answers."""

from urllib.parse import urlsplit

import pytest

from helpdesk import run

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_last_lines_are_the_address_and_the_logins_once_the_site_answers(live_server, capsys):
    port = urlsplit(live_server.url).port
    assert run.announce(port, settle=0, then=lambda: None) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert (
        lines[0]
        == f"Acolhe is running at http://127.0.0.1:{port}/  (health: /healthz, API: /api/v1/, docs: /api/docs/)"
    )
    assert any(line.strip().startswith("admin") for line in lines)
    assert "acolhe-demo" in "\n".join(lines)
    assert lines[-1].startswith("Press Ctrl-C")


def test_demo_mail_is_stored_in_files_not_printed(monkeypatch, tmp_path):
    calls = []
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    monkeypatch.setattr(run, "manage", lambda *args: calls.append((args, run.os.environ.get("EMAIL_BACKEND"))))
    monkeypatch.setattr(run.subprocess, "call", lambda *args, **kwargs: 0)
    monkeypatch.setattr(run, "ROOT", tmp_path)
    monkeypatch.setattr(run.sys, "argv", ["run", "--port", "8123"])
    assert run.main() == 0
    assert calls and all(backend == "django.core.mail.backends.filebased.EmailBackend" for _, backend in calls)
    procfile = (tmp_path / ".data" / "Procfile").read_text()
    assert "--announce --host 127.0.0.1 --port 8123" in procfile and "--loglevel INFO" not in procfile
