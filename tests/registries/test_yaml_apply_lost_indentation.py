"""Edit as YAML refuses, as an import does, a text that lost its indentation (a guide copied from a web
page): K3s reads no registry from it, and applying it emptied the form, with only a note of the keys
K3s ignores. An empty text, or keys that are no registry's, still apply (emptying the form is a choice)."""

from __future__ import annotations

import pytest

from regui.registries.draft import Draft
from regui.registries.importing import ImportRefused
from regui.registries.yaml_form import draft_from_yaml

pytestmark = pytest.mark.django_db

FLAT = 'mirrors:\ndocker.io:\nendpoint:\n- "https://registry.example.com:5000"\nrewrite:\n"^rancher/(.*)": "x/$1"\n'
FLAT_CONFIGS = 'configs:\n"registry.example.com:5000":\nauth:\nusername: robot\npassword: Sup3r-S3cret\n'


@pytest.mark.parametrize("text", [FLAT, FLAT_CONFIGS])
def test_a_text_that_lost_its_indentation_is_not_applied(cluster, text):
    with pytest.raises(ImportRefused) as refused:
        draft_from_yaml(text, cluster=cluster, form=Draft())
    assert "K3s reads no registry from this file" in str(refused.value)
    assert any("restore its indentation" in d for d in refused.value.details)
    assert "Sup3r-S3cret" not in " ".join(refused.value.details)


def test_an_empty_text_or_keys_of_no_registry_still_apply(cluster):
    assert draft_from_yaml("# nothing\n", cluster=cluster, form=Draft()).draft.mirrors == []
    assert draft_from_yaml("mirrors: {}\nauths: {}\n", cluster=cluster, form=Draft()).draft.mirrors == []


def test_the_page_says_why_and_keeps_the_form(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/registries/yaml/apply/", {"yaml_text": FLAT},
                             headers={"HX-Request": "true"})
    page = r.content.decode()
    assert "K3s reads no registry from this file" in page and "Applied to the form" not in page
