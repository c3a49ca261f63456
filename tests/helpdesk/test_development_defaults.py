"""`make run` is for one developer's machine: it listens on the loopback address unless told otherwise, and
uploaded files are reached only through the access-checked attachment view, DEBUG or not."""

import importlib

import pytest
from django.urls import Resolver404, clear_url_caches, resolve

from helpdesk import run


def test_the_development_server_listens_on_loopback_by_default(monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    options = run.parse_options([])
    web = run.procfile("python", host=options.host, port=options.port).splitlines()[0]
    assert web.endswith("runserver 127.0.0.1:8000")


def test_host_opens_the_development_server_to_the_network_only_when_asked(monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    options = run.parse_options(["--port", "8102"])
    assert (
        run.procfile("python", host=options.host, port=options.port).splitlines()[0].endswith("runserver 0.0.0.0:8102")
    )


def test_the_makefile_passes_a_loopback_host_to_make_run():
    from pathlib import Path

    makefile = (Path(run.ROOT) / "Makefile").read_text()
    assert "HOST ?= 127.0.0.1" in makefile
    assert "--host $(HOST)" in makefile


@pytest.fixture
def debug_urls(settings):
    import helpdesk.urls

    settings.DEBUG = True
    clear_url_caches()
    yield importlib.reload(helpdesk.urls)
    settings.DEBUG = False
    clear_url_caches()
    importlib.reload(helpdesk.urls)


def test_media_files_are_not_served_without_the_access_check_even_under_debug(debug_urls, client, django_user_model):
    with pytest.raises(Resolver404):
        resolve("/media/ab" + "cd" * 31)
    assert client.get("/media/ab" + "cd" * 31).status_code == 404
    assert resolve("/attachments/1/").url_name == "attachment"
