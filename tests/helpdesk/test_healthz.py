import pytest


@pytest.mark.django_db
def test_healthz_is_ok_when_postgres_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_healthz_names_redis_when_it_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["redis"]
    assert body["checks"] == {"postgres": "ok", "redis": "down", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_names_a_separate_broker_that_is_down_while_the_cache_answers(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "down",
        "checks": {"postgres": "ok", "redis": "ok", "broker": "down"},
        "down": ["broker"],
    }


@pytest.mark.django_db
def test_healthz_answers_its_json_to_a_signed_in_client_while_redis_is_down(client, settings):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    dead = "redis://127.0.0.1:1/0"
    settings.REDIS_URL = settings.CELERY_BROKER_URL = dead
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": dead}}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["redis", "broker"]


@pytest.mark.django_db
def test_healthz_answers_a_host_that_is_not_allowed_and_a_broken_session_cookie(client, settings):
    settings.ALLOWED_HOSTS = ["helpdesk.example"]
    client.cookies["sessionid"] = "not-a-session"
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_healthz_names_postgres_when_it_is_down(client, django_db_blocker):
    from django.db import connection

    # Point the live connection at a port where no PostgreSQL listens.
    connection.close()
    original = connection.settings_dict["PORT"], connection.settings_dict["HOST"]
    connection.settings_dict["HOST"], connection.settings_dict["PORT"] = "127.0.0.1", "1"
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"], connection.settings_dict["HOST"] = original
    assert response.status_code == 503
    assert response.json()["down"] == ["postgres"]


@pytest.mark.django_db
def test_healthz_answers_a_probe_at_the_containers_own_address_whatever_allowed_hosts_lists(client, settings):
    settings.ALLOWED_HOSTS = ["helpdesk.example.org"]
    # The compose health check calls 127.0.0.1; a Kubernetes probe calls the pod's address.
    for host in ("127.0.0.1:8000", "10.42.0.17:8000"):
        response = client.get("/healthz", HTTP_HOST=host)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
    # Only the probe: every page still refuses a host that is not allowed.
    assert client.get("/login/", HTTP_HOST="10.42.0.17:8000").status_code == 400
    assert client.get("/login/", HTTP_HOST="helpdesk.example.org").status_code == 200
