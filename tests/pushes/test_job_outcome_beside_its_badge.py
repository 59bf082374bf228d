"""Beside its badge a job's outcome does not say its label twice ("succeeded succeeded on all 3 nodes")."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils.html import strip_tags

from regui.pushes.outcome import outcome_from_counts


@pytest.mark.parametrize(("status", "counts", "detail"), [
    ("done", {"changed": 2, "unchanged": 1}, "on all 3 nodes (2 changed, 1 unchanged)"),
    ("done", {"failed": 1}, "on 1 node (1 failed)"),
    ("done", {"changed": 1, "failed": 1}, "1 of 2 nodes failed (1 changed, 1 failed)"),
    ("running", {"changed": 1, "pending": 1}, "1 of 2 nodes done (1 changed, 1 pending)"),
])
def test_the_detail_beside_the_badge_leaves_out_the_label(status, counts, detail):
    outcome = outcome_from_counts(status, counts)
    assert outcome.detail == detail
    shown = strip_tags(render_to_string("pushes/partials/_job_outcome.html", {"outcome": outcome})).strip()
    assert shown == f"{outcome.label} {detail}"
