"""A model that points at a customer or a contact holds something about a person: it must be
in a privacy entry, or an export would leave it out and an erasure would leave it behind."""

from django.apps import apps

from tend.customers.models import Contact, Customer
from tend.privacy.registry import ANONYMISE, DELETE, KEEP, privacy


def _personal_models() -> set[str]:
    out = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model in (Customer, Contact):
                out.add(model._meta.label)
    return out


def _registered() -> set[str]:
    return {label for entry in privacy for label in entry.models}


def test_every_model_with_a_customer_or_contact_key_is_in_an_entry():
    missing = _personal_models() - _registered()
    assert not missing, f"add these models to a privacy entry (tend/<app>/privacy.py): {missing}"


def test_the_check_sees_the_models_it_must_see():
    # The walk itself works: the known holders are found, through every app.
    assert {"customers.Contact", "billing.Order", "activity.Event", "tasks.Task"} <= (
        _personal_models()
    )


def test_every_entry_names_real_models_and_says_what_erasure_does():
    for entry in privacy:
        for label in entry.models:
            apps.get_model(label)  # raises LookupError on a typo
        assert entry.on_erase in {DELETE, ANONYMISE, KEEP}, entry.name
        assert str(entry.description), entry.name


def test_billing_entries_are_kept_for_accounting_never_deleted():
    for entry in privacy:
        if entry.name.startswith("billing-"):
            assert entry.kept_for_accounting and entry.on_erase != DELETE, entry.name
