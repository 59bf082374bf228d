"""The YAML corners yaml.v2 reads its own way (tests/k3s/test_parse_explicit_tags.py, test_parse_bom.py,
test_parse_flow_indicators.py, test_parse_tabs.py, test_lint_config_toml_key.py), through the pages that
take a whole file: the import's preview and Edit as YAML. A file K3s refuses is refused with K3s's
words; a file it reads is previewed or applied; none of them is a server error."""

from __future__ import annotations

import html

import pytest

from regui.registries.models import Mirror

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}

REFUSED = {
    "quoted yes": ('configs:\n  a.io:\n    tls:\n      insecure_skip_verify: "yes"\n',
                   "cannot unmarshal !!str `yes` into bool"),
    "explicit null on text": ("mirrors:\n  a.io: !!null oops\n", "cannot decode !!str `oops` as a !!null"),
    "bool tag on a word": ('configs:\n  a.io:\n    tls:\n      insecure_skip_verify: !!bool maybe\n',
                           "cannot decode !!str `maybe` as a !!bool"),
    "YAML 1.2 directive": ("%YAML 1.2\n---\nmirrors:\n  a.io: {}\n", "found incompatible YAML document"),
    "JSON's escaped slash": ('mirrors:\n  a.io:\n    endpoint: ["https:\\/\\/x.example.com"]\n',
                             "found unknown escape character"),
    "question mark in a flow value": ("mirrors:\n  a.io:\n    endpoint: [x?y]\n", "did not find expected ',' or ']'"),
    "tab after a dash": ("mirrors:\n  a.io:\n    endpoint:\n    -\tx.io\n", "found character that cannot start any token"),
    "block sequence after a tab": ("mirrors:\n  a.io:\n    endpoint:\t- x.io\n",
                                   "block sequence entries are not allowed in this context"),
}

READ = {
    "bool tag on a quoted yes": 'mirrors:\n  a.io: {}\nconfigs:\n  a.io:\n    tls: {insecure_skip_verify: !!bool "yes"}\n',
    "null tag on a mapping": "mirrors:\n  a.io: !!null\n    endpoint: [https://x.example.com]\n",
    "BOM that starts a line": "mirrors:\n  a.io:\n\ufeff   endpoint: [https://x.example.com]\n",
    "BOM before a top-level key": "mirrors:\n  a.io: {}\n\ufeffconfigs:\n  b.io: {}\n",
    "tab after a key": "mirrors:\n  a.io:\t{endpoint: [https://x.example.com]}\n",
    "explicit key in a flow mapping": 'mirrors:\n  a.io: {? endpoint: [https://x.example.com]}\n',
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_import_refuses_what_k3s_refuses_in_k3s_words(operator_client, cluster, case):
    text, words = REFUSED[case]
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": text})
    page = html.unescape(r.content.decode())
    assert r.status_code == 400 and "K3s would refuse this file" in page and words in page
    assert not cluster.revisions.exists()


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_edit_as_yaml_refuses_what_k3s_refuses_in_k3s_words(operator_client, cluster, case):
    text, words = REFUSED[case]
    r = operator_client.post(f"/clusters/{cluster.name}/registries/yaml/apply/", {"yaml_text": text}, **HX)
    page = html.unescape(r.content.decode())
    assert r.status_code == 400 and "Not applied: K3s would refuse this file" in page and words in page


@pytest.mark.parametrize("case", sorted(READ))
def test_the_import_previews_what_k3s_reads(operator_client, cluster, case):
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": READ[case]})
    assert r.status_code == 200, html.unescape(r.content.decode())
    assert not Mirror.objects.exists()


@pytest.mark.parametrize("case", sorted(READ))
def test_edit_as_yaml_applies_what_k3s_reads(operator_client, cluster, case):
    r = operator_client.post(f"/clusters/{cluster.name}/registries/yaml/apply/", {"yaml_text": READ[case]}, **HX)
    page = html.unescape(r.content.decode())
    assert r.status_code == 200 and "Not applied" not in page and "a.io" in page


def test_a_configs_key_that_breaks_config_toml_is_previewed_with_what_to_fix(operator_client, cluster):
    text = "mirrors:\n  a.io: {}\nconfigs:\n  \"it's.io\":\n    auth: {username: u, password: p-Edge-1}\n"
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": text})
    assert r.status_code == 200 and "is not a valid host name" in html.unescape(r.content.decode())
    r = operator_client.post(f"/clusters/{cluster.name}/registries/yaml/apply/", {"yaml_text": text}, **HX)
    assert r.status_code == 200
