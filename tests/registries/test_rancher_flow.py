"""Rancher's flow on the Registries page: the help banner links to the distro's guide, and the
Authentication select of a Registry Authentication box lists its choices in Rancher's order:
the two "Create …" choices (RKE Auth Config first), then None, then the existing secrets."""

from __future__ import annotations

import re

import pytest

from regui.registries.services import SecretInput, secret_save

pytestmark = pytest.mark.django_db


def auth_choices(html: str) -> list[str]:
    select = re.search(r'<select id="[^"]*-auth"[^>]*data-box-auth[^>]*>(.*?)</select>', html, re.S)
    assert select, "no Authentication select"
    return [re.sub(r"\s+", " ", text).strip() for text in re.findall(r"<option[^>]*>(.*?)</option>", select[1], re.S)]


def test_it_offers_rke_auth_config_before_http_basic_then_none_then_existing_secrets(operator_client, cluster):
    secret_save(data=SecretInput(name="robot", kind="basic", username="bot", password="Robot-Password-12",
                                 cluster=cluster))
    html = operator_client.get(f"/clusters/{cluster.name}/").content.decode()
    assert auth_choices(html) == ["Create an RKE Auth Config Secret", "Create an HTTP Basic Auth Secret", "None",
                                  "robot (HTTP Basic Auth: bot)"]
    assert '<optgroup label="Choose an existing secret:">' in html


def test_a_new_box_still_starts_at_none(operator_client, cluster):
    box = operator_client.get(f"/clusters/{cluster.name}/registries/add/config/", HTTP_HX_REQUEST="true")
    selected = re.findall(r'<option value="([^"]*)" selected>', box.content.decode())
    assert selected == ["none"]


@pytest.mark.parametrize(("distro", "href", "words"), [
    ("k3s", "https://docs.k3s.io/installation/private-registry", "K3s documentation"),
    ("rke2", "https://docs.rke2.io/install/private_registry", "RKE2 documentation"),
])
def test_the_help_banner_links_to_the_distros_private_registry_guide(operator_client, cluster, distro, href, words):
    cluster.distro = distro
    cluster.save(update_fields=["distro"])
    html = operator_client.get(f"/clusters/{cluster.name}/").content.decode()
    link = re.search(r'see the\s*<a href="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert link and link[1] == href and link[2] == words
