import pytest


@pytest.mark.django_db
def test_healthz_is_ok_when_postgres_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}


@pytest.mark.django_db
def test_healthz_names_redis_when_it_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["redis"]
    assert body["checks"] == {"postgres": "ok", "redis": "down"}


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
