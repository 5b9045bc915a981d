"""Whatever the cells, an import ends: every row is stored or refused with a reason, and the
run is done, never failed (hypothesis, over every kind, on the database the suite runs on)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tend.customers.models import Customer
from tend.factories import make_customer
from tend.ingest.imports.actions import import_file
from tend.ingest.imports.fields import FIELDS
from tend.ingest.imports.models import ImportStatus, RejectedRow

pytestmark = pytest.mark.django_db

EDGES = [
    "", "k1", "k2", "cus_1", "2024-03-01", "01/03/2024", "2024-03-01T10:00:00Z",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "10", "9.999", "-1", "0",
    "9" * 30, "1e400", "nan", "Infinity", "active", "canceled", "month", "year", "paid",
    "a@b.test", "DE", "Germany", "ßß", "ßßß", "ǆ", "İ",
    '{"a": 1}', '{"a": "\\ud800"}', '{"a": "\\u0000"}', "[]",
]  # fmt: skip
cell = st.one_of(
    st.sampled_from(EDGES),
    st.text(max_size=12),  # any character, NUL and control characters included
    st.text(alphabet="xé客\x00 ", min_size=95, max_size=260),  # around every length limit
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.mark.parametrize("kind", list(FIELDS))
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_cells_in_any_kind_are_stored_or_refused_never_fail_the_import(kind, folder, data):
    for ref in ("k1", "k2"):  # rows that name them get past the customer lookup
        if not Customer.objects.filter(external_id=ref).exists():
            make_customer("Known", external_id=ref)
    header = [str(f.label) for f in FIELDS[kind]]
    row = st.lists(cell, min_size=len(header), max_size=len(header))
    rows = data.draw(st.lists(row, min_size=1, max_size=5))
    path = folder / f"{kind}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    result = import_file(kind=kind, path=path)
    assert result.run.status == ImportStatus.DONE, result.run.error
    assert result.accepted + result.rejected + result.duplicates <= len(rows)
    for reason in RejectedRow.objects.filter(run=result.run).values_list("reason", flat=True):
        assert reason
