"""The cohort heatmap writes a number in every reached cell and nothing in the others."""

from datetime import date
from decimal import Decimal

from tend.metrics.charts import cohort_figure
from tend.metrics.cohorts import CohortRow


def test_cells_not_reached_yet_are_blank_and_the_running_month_is_starred():
    rows = [
        CohortRow(date(2026, 9, 1), 10, Decimal(100), [100.0, 90.0, 80.0, 70.0], [100.0] * 4),
        CohortRow(date(2026, 11, 1), 4, Decimal(40), [100.0, 75.0], [100.0, 80.0]),
    ]
    text = cohort_figure(rows, basis="logo")["data"][0]["text"]
    assert text == [["100", "90", "80", "70*"], ["100", "75*", "", ""]]
    # plotly writes "null" for a missing text; no cell may carry one.
    assert all(cell is not None for row in text for cell in row)
