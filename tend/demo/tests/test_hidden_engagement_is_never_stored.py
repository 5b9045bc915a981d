"""The latent engagement that drives churn is the label's cause: it must not leak into the data."""

import json

import pytest

from tend.activity.models import Event
from tend.customers.models import Contact, Customer
from tend.demo.tests.helpers import generate

pytestmark = pytest.mark.django_db

# Quiz scores and star ratings are product data; these words would name the hidden state.
FORBIDDEN = ("engage", "latent", "churn", "risk", "health", "propensity", "hidden")


@pytest.mark.parametrize("business", ["saas", "course", "shop"])
def test_traits_and_event_properties_hold_no_engagement_or_churn_fields(business):
    generate(business)
    keys: set[str] = set()
    for traits in Customer.objects.values_list("traits", flat=True):
        keys |= set(traits)
    for traits in Contact.objects.values_list("traits", flat=True):
        keys |= set(traits)
    assert keys <= {"domain", "signup_source", "locale", "country", "marketing_opt_in"}
    for props in Event.objects.values_list("properties", flat=True).distinct()[:2000]:
        assert not any(word in key.lower() for key in props for word in FORBIDDEN), props
        text = json.dumps(props).lower()
        assert "engage" not in text and "latent" not in text, text
