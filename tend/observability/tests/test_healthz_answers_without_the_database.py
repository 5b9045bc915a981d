"""/healthz is liveness: the process answers, with no login and no database work."""

from django.test import Client


def test_healthz_answers_ok_without_touching_the_database():
    # No django_db mark: any query here would raise (pytest-django blocks the database).
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_refuses_other_methods():
    assert Client().post("/healthz").status_code == 405
