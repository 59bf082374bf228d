"""Posting the Registries page's form the way the page does: each action has its own URL."""

from __future__ import annotations

from typing import Any


def post_registries(client: Any, cluster: Any, data: dict[str, Any], **extra: Any) -> Any:
    """POST `data` to the page's save, preview or insight URL, chosen by the test's `_action` key
    (default: save). The key is the test's, not the form's: it is not sent."""
    data = dict(data)
    action = data.pop("_action", "save")
    return client.post(f"/clusters/{cluster.name}/registries/{action}/", data, **extra)


TYPED_PASSWORD = "S3cret-pass-xyz"


def mirror_form(revision: int = 0, **extra: Any) -> dict[str, Any]:
    """The page's fields for a save of one Docker Hub mirror with one endpoint and, for that endpoint,
    basic auth typed into the box (TYPED_PASSWORD); `extra` replaces or adds fields."""
    return {
        "revision": str(revision), "message": "a mirror for Docker Hub",
        "mirror": ["m1"], "m1-hostname": "docker.io", "m1-endpoint": ["e1"], "e1-url": "https://mirror.example.com:5000",
        "config": ["c1"], "c1-hostname": "mirror.example.com:5000", "c1-auth": "create-basic",
        "c1-username": "robot", "c1-password": TYPED_PASSWORD, **extra,
    }


def saved_or_explained(response: Any) -> str:
    """What a save answered: "saved" (htmx gets the saved form, in place), or "refused" with the reason
    on the page. Anything else (a server error, an empty answer) fails the test."""
    body = response.content.decode()
    if response.status_code == 200 and response.get("X-Regui-Saved"):
        assert 'id="save-done"' in body, body[:500]
        return "saved"
    assert response.status_code in (200, 400), response.status_code
    assert 'id="save-summary"' in body and ("Nothing was saved" in body or "Someone saved" in body), body[:500]
    return "refused"


def previewed(response: Any) -> bool:
    """The preview answered with the rendered file (and its field errors, if any)."""
    body = response.content.decode()
    return response.status_code == 200 and 'id="preview-yaml"' in body and 'id="field-errors-preview"' in body


def confirm_import(client: Any, cluster: str, preview: Any, **data: Any) -> Any:
    """Press Import on the import preview `preview` (the answer to the first step), as the page does."""
    return client.post(f"/clusters/{cluster}/import/confirm/", {"ticket": preview.context["ticket"], **data})
