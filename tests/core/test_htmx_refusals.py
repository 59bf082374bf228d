"""What htmx does with an error answer (base.html's htmx-config, read as htmx 2 reads it: the first
rule whose code pattern matches the status wins), and what an error page gives regui.js to say."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

BASE = Path(__file__).resolve().parents[2] / "templates" / "base.html"


def handling(status: int) -> dict:
    meta = re.search(r"""<meta name="htmx-config" content='([^']*)'>""", BASE.read_text())
    assert meta
    rules = json.loads(meta.group(1))["responseHandling"]
    return next((r for r in rules if re.search(r["code"], str(status))), {"swap": False})


@pytest.mark.parametrize("status", [400, 409, 413, 422])
def test_a_refusal_with_its_form_or_message_is_swapped_in_as_an_error(status):
    assert handling(status) == {"code": handling(status)["code"], "swap": True, "error": True}


@pytest.mark.parametrize("status", [401, 403, 404, 405, 429, 500, 502, 503])
def test_any_other_error_is_not_swapped_and_stays_an_error(status):
    rule = handling(status)
    assert rule["swap"] is False and rule["error"] is True


def test_a_success_is_swapped_and_a_204_is_not():
    assert handling(200)["swap"] is True and not handling(200).get("error")
    assert handling(286)["swap"] is True
    assert handling(204)["swap"] is False


def test_htmx_is_still_told_not_to_eval_under_the_new_config():
    config = json.loads(re.search(r"""<meta name="htmx-config" content='([^']*)'>""", BASE.read_text()).group(1))
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False


def test_every_page_holds_the_hidden_alert_regui_js_writes_to(operator_client):
    page = operator_client.get("/").content.decode()
    assert 'id="request-alert"' in page and "hidden" in page.split('id="request-alert"')[1].split(">")[0]
    assert 'data-login-url="/login/"' in page


@pytest.mark.django_db
def test_a_403_page_marks_its_reason_for_regui_js(viewer_client, cluster):
    from regui.inventory.models import Node

    node = Node.objects.create(cluster=cluster, name="a1", address="10.0.0.1")
    r = viewer_client.post(f"/clusters/{cluster.name}/nodes/{node.pk}/checks/readback/", HTTP_HX_REQUEST="true")
    assert r.status_code == 403
    assert "<p data-refusal>This needs the operator role.</p>" in r.content.decode()
