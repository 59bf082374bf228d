"""Posting the Registries page's form the way the page does: each action has its own URL."""

from __future__ import annotations

from typing import Any


def post_registries(client: Any, cluster: Any, data: dict[str, Any], **extra: Any) -> Any:
    """POST `data` to the page's save, preview or insight URL, chosen by the test's `_action` key
    (default: save). The key is the test's, not the form's: it is not sent."""
    data = dict(data)
    action = data.pop("_action", "save")
    return client.post(f"/clusters/{cluster.name}/registries/{action}/", data, **extra)
