"""The customer page's History panel: the customer's latest audit entries in one query, a
link to all of them on /audit/, and only for owners."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.accounts.models import AuditEntry
from tend.customers.actions import customer_add_note, customer_update
from tend.factories import make_customer

pytestmark = pytest.mark.django_db


def test_the_panel_shows_the_latest_ten_entries_and_links_to_all_history(owner_client, owner):
    acme = make_customer(name="Acme")
    other = make_customer(name="Other")
    customer_update(customer=acme, by=owner, name="Acme Ltd")
    for i in range(12):
        customer_add_note(customer=acme, by=owner, body=f"note {i}")
    customer_update(customer=other, by=owner, name="Other Ltd")
    html = owner_client.get(f"/customers/{acme.pk}/").content.decode()
    panel = html[html.index('id="history-panel"') :]
    panel = panel[: panel.index("</section>")]
    assert panel.count('class="list-group-item') == 10
    assert "wrote a note" in panel
    assert "Other Ltd" not in panel
    assert f'href="/audit/?customer={acme.pk}"' in panel


def test_the_panel_costs_one_query(owner_client, owner):
    acme = make_customer(name="Acme")
    customer_update(customer=acme, by=owner, name="Acme Ltd")
    from tend.accounts.audit_panel import _context

    class Request:
        user = owner

    with CaptureQueriesContext(connection) as queries:
        context = _context(Request(), acme)  # type: ignore[arg-type]
    assert context is not None and len(context["rows"]) == 2  # created + updated
    assert len(queries.captured_queries) == 1


@pytest.mark.parametrize("persona", ["member", "viewer"])
def test_members_and_viewers_do_not_see_the_panel(persona, login_as, member, viewer, owner):
    acme = make_customer(name="Acme")
    customer_update(customer=acme, by=owner, name="Acme Ltd")
    client = login_as(member if persona == "member" else viewer)
    response = client.get(f"/customers/{acme.pk}/")
    assert response.status_code == 200
    assert 'id="history-panel"' not in response.content.decode()
    assert AuditEntry.objects.filter(customer_id=acme.pk).exists()
