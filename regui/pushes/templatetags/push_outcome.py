"""{% last_job_outcome cluster %}: the node list's line about the cluster's latest job and its outcome
(pushes/outcome.py), in two queries whatever the cluster's size."""

from __future__ import annotations

from typing import Any

from django import template

from regui.pushes.outcome import job_outcome
from regui.registries.models import Cluster

register = template.Library()


@register.inclusion_tag("pushes/partials/_last_job.html")
def last_job_outcome(cluster: Cluster) -> dict[str, Any]:
    job = cluster.push_jobs.order_by("-created_at", "-pk").first()
    return {"job": job, "outcome": job_outcome(job) if job else None}
