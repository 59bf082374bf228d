"""Edit as YAML: the form as registries.yaml text (the preview's, secrets as markers), and text applied
to the form, read as an import reads a file, with line numbers (issue 11 item 8)."""

from __future__ import annotations

import html
import re

import pytest

from regui.registries.draft import ConfigBox, Draft, EndpointRow, MirrorBox, draft_from_post, new_token
from regui.registries.importing import ImportRefused
from regui.registries.models import Cluster, UnsavedEdits
from regui.registries.selectors import draft_from_cluster
from regui.registries.services import SecretInput, registries_save, secret_save
from regui.registries.unsaved import same_content
from regui.registries.yaml_form import draft_from_yaml
from tests.certs import key_and_cert
from tests.formdata import form_data, posted

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
PASSWORD = "typed-in-form-pw-1"

FILE = """\
mirrors:
  docker.io:
    endpoint:
      - https://mirror.example.com:5000
      - http://10.0.0.5:5000
    rewrite:
      "^rancher/(.*)": "mirrorproject/$1"
configs:
  mirror.example.com:5000:
    auth:
      username: robot
      password: yaml-typed-pw-2
    tls:
      insecure_skip_verify: true
"""


def form(**extra) -> dict:
    data = {"revision": "0", "mirror": ["m1"], "m1-hostname": "quay.io", "m1-endpoint": ["e1"],
            "e1-url": "https://q.example", "config": ["c1"], "c1-hostname": "q.example", "c1-auth": "create-basic",
            "c1-username": "bot", "c1-password": PASSWORD}
    data.update(extra)
    return data


def yaml_of(client, cluster, data: dict) -> str:
    body = client.post(f"/clusters/{cluster.name}/registries/yaml/", data, **HX).content.decode()
    m = re.search(r"<textarea id=\"yaml-text\"[^>]*>(.*)</textarea>", body, re.S)
    assert m, body
    return html.unescape(m.group(1))


def apply(client, cluster, text: str, data: dict | None = None, status: int = 200) -> str:
    """The answer to applying `text`: 200 applied, 400 refused (with why, swapped in where it was asked)."""
    r = client.post(f"/clusters/{cluster.name}/registries/yaml/apply/", {**(data or form()), "yaml_text": text}, **HX)
    assert r.status_code == status
    return html.unescape(r.content.decode())


def test_the_yaml_view_shows_the_form_as_the_preview_does_secrets_as_markers(operator_client, cluster):
    text = yaml_of(operator_client, cluster, form())
    assert "quay.io:\n    endpoint:\n      - https://q.example\n" in text
    assert "password: \"<redacted: password of secret (new)>\"" in text
    assert PASSWORD not in text


def test_a_viewer_sees_the_text_read_only(viewer_client, cluster):
    body = viewer_client.post(f"/clusters/{cluster.name}/registries/yaml/", {"revision": "0"}, **HX).content.decode()
    assert re.search(r"<textarea id=\"yaml-text\"[^>]*readonly>", body)
    assert viewer_client.post(f"/clusters/{cluster.name}/registries/yaml/apply/", {"yaml_text": FILE}).status_code == 403


def test_applying_a_file_puts_it_into_the_form_and_saves_nothing(operator_client, cluster):
    page = apply(operator_client, cluster, FILE)
    assert "Applied to the form: 1 mirror(s), 1 registry authentication entry" in page
    assert re.search(r'name="k[0-9a-f]{8}-hostname" value="docker.io"', page)
    assert re.search(r'name="k[0-9a-f]{8}-url" value="http://10.0.0.5:5000"', page)
    assert re.search(r'name="k[0-9a-f]{8}-pattern" value="\^rancher/\(\.\*\)"', page)
    assert '<option value="create-basic" selected>' in page and 'value="robot"' in page
    # A password typed into the text goes once into its box, to the browser that typed it.
    assert re.search(r'type="password" id="k[0-9a-f]{8}-password" name="k[0-9a-f]{8}-password" value="yaml-typed-pw-2"', page)
    assert "quay.io" not in page, "the text replaces the form"
    cluster.refresh_from_db()
    assert cluster.revision == 0 and not cluster.mirrors.exists() and not UnsavedEdits.objects.exists()


def test_the_answer_is_never_cached(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/registries/yaml/apply/", {**form(), "yaml_text": FILE}, **HX)
    assert r["Cache-Control"] == "no-store" and r["HX-Trigger-After-Settle"] == '{"regui:changed": {"target": "body"}}'


def test_a_file_k3s_refuses_is_not_applied_and_says_on_which_line(operator_client, cluster):
    page = apply(operator_client, cluster, "mirrors:\n  docker.io:\n    endpoint: [a\n", status=400)
    assert re.search(r"Not applied: K3s would refuse this file (\(|at )\S*line \d", page) and "mirror-boxes" not in page
    page = apply(operator_client, cluster, "mirrors:\n  docker.io:\n    endpoint:\n      - {a: b}\n", status=400)
    assert re.search(r"Not applied: K3s would refuse this file \(yaml: unmarshal errors:\s+line 4: cannot unmarshal", page)


def test_values_regui_cannot_keep_are_refused_as_an_import_refuses_them(operator_client, cluster):
    page = apply(operator_client, cluster, 'mirrors:\n  docker.io:\n    endpoint: [""]\n', status=400)
    assert "regui cannot keep some of its values" in page and "an empty endpoint" in page


def test_credentials_in_an_endpoint_url_are_refused_with_their_line(operator_client, cluster):
    page = apply(operator_client, cluster, "mirrors:\n  docker.io:\n    endpoint:\n      - https://u:p@m.example\n", status=400)
    assert "line 4: credentials inside an endpoint URL" in page


def test_form_problems_are_listed_with_the_line_of_their_field(operator_client, cluster):
    page = apply(operator_client, cluster, "mirrors:\n  docker.io:\n    endpoint:\n      - ftp://m.example\n"
                                           "configs:\n  m.example:\n    auth:\n      username: robot\n")
    assert "line 4: Scheme “ftp” is not supported" in page
    assert "line 8: Password is required." in page
    assert "Applied to the form" in page, "problems are marked in the form, as an import keeps them"


def test_an_empty_text_empties_the_form(operator_client, cluster):
    page = apply(operator_client, cluster, "# nothing\n")
    assert "Applied to the form: 0 mirror(s), 0 registry authentication entries" in page
    assert page.count('class="box mirror-box"') == 1, "an empty section gets its one empty box"


def test_keys_k3s_ignores_are_said(operator_client, cluster):
    page = apply(operator_client, cluster, "mirrors: {}\nauths: {}\nextra: 1\n")
    assert "K3s ignores these keys, so they are not in the form" in page


def test_the_password_typed_in_the_form_stays_in_the_browser(operator_client, cluster):
    text = yaml_of(operator_client, cluster, form())
    page = apply(operator_client, cluster, text.replace("quay.io", "ghcr.io"))
    assert 'id="c1-password" name="c1-password" value="" autocomplete="new-password" data-keep-typed' in page
    assert PASSWORD not in page
    assert 'id="c1-username" name="c1-username" value="bot"' in page


def test_a_typed_password_marker_with_no_box_to_stand_for_is_refused(operator_client, cluster):
    text = yaml_of(operator_client, cluster, form()).replace("q.example:", "other.example:")
    page = apply(operator_client, cluster, text, status=400)
    assert "stands for the password typed in the form's box for “other.example”, and the form has none" in page


@pytest.fixture
def secrets(cluster):
    key, cert = key_and_cert()
    robot = secret_save(data=SecretInput(name="robot", kind="basic", username="robot", password="pw-r-1",
                                         cluster=cluster))
    tls = secret_save(data=SecretInput(name="client", kind="tls", certificate=cert, private_key=key, cluster=cluster))
    return robot, tls, cert


def test_secrets_bundles_and_tls_files_round_trip_through_the_text(operator_client, cluster, secrets):
    robot, tls, cert = secrets
    data = {"revision": "0", "config": ["c1"], "c1-hostname": "m.example", "c1-auth": str(robot.pk),
            "c1-tls_secret": str(tls.pk), "c1-ca_bundle": cert, "c1-ca_file": "", "mirror": []}
    text = yaml_of(operator_client, cluster, data)
    assert "<redacted: password of secret robot>" in text and "BEGIN" not in text
    applied = draft_from_yaml(text, cluster=cluster, form=draft_from_post(posted(data)))
    box = applied.draft.configs[0]
    assert (box.token, box.auth, box.tls_secret, box.ca_bundle.strip()) == ("c1", str(robot.pk), str(tls.pk), cert.strip())
    assert applied.problems == []
    # Renamed in the text: the box's files follow it to the new name.
    renamed = draft_from_yaml(text.replace("  m.example:", "  n.example:"), cluster=cluster, form=draft_from_post(posted(data)))
    assert renamed.draft.configs[0].tls_secret == str(tls.pk) and renamed.draft.configs[0].hostname == "n.example"


def test_a_secret_is_named_by_its_marker(cluster, secrets):
    robot, _, _ = secrets
    text = "configs:\n  m.example:\n    auth:\n      password: '<redacted: password of secret robot>'\n"
    assert draft_from_yaml(text, cluster=cluster, form=Draft()).draft.configs[0].auth == str(robot.pk)


@pytest.mark.parametrize(("auth", "line", "why"), [
    ("password: '<redacted: password of secret nobody>'", 4, "no HTTP Basic Auth or RKE Auth Config secret “nobody”"),
    ("password: '<redacted: password of secret client>'", 4, "no HTTP Basic Auth or RKE Auth Config secret “client”"),
    ("username: someone\n      password: '<redacted: password of secret robot>'", 4, "has the username “robot”"),
    ("username: robot\n      password: '<redacted: password of secret robot>'\n      auth: eA==", 4, "these values mix"),
    ("identity_token: tok", 4, "no field for an identity token"),
    ("auth: not-base64!", 4, "auth must be base64 of username:password"),
])
def test_what_cannot_become_the_form_is_refused_with_its_line(cluster, secrets, auth, line, why):
    text = f"configs:\n  m.example:\n    auth:\n      {auth}\n"
    with pytest.raises(ImportRefused) as refused:
        draft_from_yaml(text, cluster=cluster, form=Draft())
    assert refused.value.details and refused.value.details[0].startswith(f"line {line}: "), refused.value.details
    assert why in refused.value.details[0]


def test_a_foreign_secret_is_not_usable_by_name(cluster, secrets):
    other = Cluster.objects.create(name="other")
    secret_save(data=SecretInput(name="theirs", kind="basic", username="u", password="p-1", cluster=other))
    with pytest.raises(ImportRefused, match="cannot go into the form"):
        draft_from_yaml("configs:\n  m:\n    auth:\n      password: '<redacted: password of secret theirs>'\n",
                        cluster=cluster, form=Draft())


def test_an_auth_value_becomes_a_box_that_creates_an_rke_auth_config_secret(cluster):
    text = "configs:\n  m.example:\n    auth:\n      auth: cm9ib3Q6czNjcmV0\n"  # robot:s3cret
    box = draft_from_yaml(text, cluster=cluster, form=Draft()).draft.configs[0]
    assert (box.auth, box.username, box.password) == ("create-rke", "robot", "s3cret")


def test_regui_s_own_tls_files_with_no_box_behind_them_are_refused(cluster):
    path = "/var/lib/rancher/k3s/etc/tls/registries/m.example/ca.crt"
    with pytest.raises(ImportRefused) as refused:
        draft_from_yaml(f"configs:\n  m.example:\n    tls:\n      ca_file: {path}\n", cluster=cluster, form=Draft())
    assert refused.value.details == [f"line 4: {path} is the file regui writes from a box's CA Cert Bundle, and "
                                     "the form has none for it: choose it in the form"]
    node = draft_from_yaml("configs:\n  m.example:\n    tls:\n      ca_file: /etc/ssl/ca.pem\n", cluster=cluster,
                           form=Draft()).draft.configs[0]
    assert node.ca_file == "/etc/ssl/ca.pem"


def test_the_saved_registries_come_back_unchanged_through_the_text(operator_client, cluster, secrets):
    robot, tls, cert = secrets
    registries_save(cluster=cluster, draft=Draft(revision=0, mirrors=[
        MirrorBox(new_token(), "*", [EndpointRow(new_token(), "https://m.example")])], configs=[
        ConfigBox(new_token(), "m.example", auth=str(robot.pk), tls_secret=str(tls.pk), ca_bundle=cert,
                  insecure_skip_verify=True),
        ConfigBox(new_token(), "x.example", empty_auth=True, empty_tls=True)]))
    data = form_data(operator_client.get(f"/clusters/{cluster.name}/").content.decode(), "registries-form")
    text = yaml_of(operator_client, cluster, data)
    applied = draft_from_yaml(text, cluster=cluster, form=draft_from_post(posted(data)))
    assert same_content(applied.draft, draft_from_cluster(cluster)), text
