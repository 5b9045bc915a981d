"""Small builders shared by the segment tests."""

from __future__ import annotations

from typing import Any

from tend.customers.models import Customer
from tend.factories import make_customer

BIG = {"field": "size", "op": "gte", "value": 100}


def customers(*sizes: int | None, **fields: Any) -> list[Customer]:
    """One customer per size (employees), in order."""
    return [make_customer(size=size, **fields) for size in sizes]


def resize(customer: Customer, size: int | None) -> None:
    Customer.objects.filter(pk=customer.pk).update(size=size)
