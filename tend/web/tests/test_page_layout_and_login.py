"""The layout every page shares, the login page, logout and the language switch."""

import pytest
from django.test import Client
from django.urls import reverse

from tend.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_an_outsider_is_sent_to_the_login_page_from_the_home_page(outsider_client):
    response = outsider_client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_login_page_offers_both_languages_and_loads_no_cdn(outsider_client):
    html = outsider_client.get(reverse("login")).content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'value="en"' in html and 'value="zh-hans"' in html
    assert "简体中文" in html
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in html
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "https://" not in html.replace("https://www.w3.org", "")


def test_logging_in_through_the_form_lands_on_the_today_page(owner):
    client = Client()
    response = client.post(
        reverse("login"), {"username": owner.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("today:list")
    assert response.status_code == 200


def test_a_wrong_password_shows_an_error_and_does_not_log_in(owner):
    client = Client()
    response = client.post(reverse("login"), {"username": owner.username, "password": "nope"})
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_navigation_shows_the_user_their_role_and_a_logout_form(owner_client, owner):
    html = owner_client.get(reverse("customers:list")).content.decode()
    assert f'href="{reverse("customers:list")}"' in html and 'aria-current="page"' in html
    assert "Role: Owner" in html
    assert f'action="{reverse("logout")}"' in html


def test_logging_out_needs_a_post_and_ends_the_session(owner_client):
    response = owner_client.post(reverse("logout"))
    assert response.status_code == 302
    assert owner_client.get(reverse("customers:list")).status_code == 302


def test_the_browser_language_chooses_chinese(owner_client):
    html = owner_client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="zh-Hans").content
    assert b'<html lang="zh-hans"' in html


def test_the_language_switch_remembers_the_choice_over_the_browser_language(owner_client):
    response = owner_client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("customers:list")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("customers:list")
    html = owner_client.get(reverse("customers:list"), HTTP_ACCEPT_LANGUAGE="en").content
    assert b'<html lang="zh-hans"' in html


def test_the_login_page_can_switch_language_before_logging_in(outsider_client):
    outsider_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/login/"})
    assert b'lang="zh-hans"' in outsider_client.get(reverse("login")).content
