"""`{% push_choices cluster %}`: one push's rolling policy on a push form, the cluster's defaults shown."""

from __future__ import annotations

from typing import Any

from django import template

from ..forms import READY_CHOICES
from ..services import effective_policy

register = template.Library()


@register.inclusion_tag("pushes/partials/_push_choices.html")
def push_choices(cluster: Any) -> dict[str, Any]:
    policy = effective_policy(cluster)
    default = dict(READY_CHOICES)["1" if policy.ready_gate else "0"]
    return {"policy": policy, "ready_choices": [("", f"cluster default: {default}"), *READY_CHOICES[1:]]}
