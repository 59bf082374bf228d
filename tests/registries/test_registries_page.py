"""The cluster's Registries page: Rancher's boxes, htmx fragments, live preview and save."""

from __future__ import annotations

import json
import re

import pytest

from regui.registries.models import Mirror, RegistryConfig, Secret
from tests.pages import post_registries

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def url(cluster):
    return f"/clusters/{cluster.name}/"


def form(revision=0, **extra):
    data = {
        "revision": str(revision), "_action": "save",
        "mirror": ["m1"], "m1-hostname": "docker.io",
        "m1-endpoint": ["e1", "e2"], "e1-url": "https://mirror.example.com:5000", "e2-url": "http://10.0.0.5:5000",
        "m1-rewrite": ["r1"], "r1-pattern": "^rancher/(.*)", "r1-replacement": "mirrorproject/rancher-images/$1",
        "config": ["c1"], "c1-hostname": "mirror.example.com:5000", "c1-auth": "create-basic",
        "c1-username": "robot", "c1-password": "S3cret-pass-xyz",
    }
    data.update(extra)
    return data


def test_it_shows_rancher_labels_verbatim(operator_client, cluster):
    html = operator_client.get(url(cluster)).content.decode()
    for label in ["Mirrors", "Registry Hostname", "Mirror Endpoints", "Rewrites", "Add Mirror",
                  "Add Rewrite Config", "Registry Authentication", "Authentication",
                  "Create an HTTP Basic Auth Secret", "Create an RKE Auth Config Secret", "None", "TLS Secret",
                  "CA Cert Bundle", "Skip TLS Verifications", "Add Registry"]:
        assert label in html, label


def test_it_serves_new_boxes_and_rows_as_fragments(operator_client, cluster):
    box = operator_client.get(url(cluster) + "registries/add/mirror/", **HX).content.decode()
    assert 'name="mirror"' in box and "<html" not in box
    row = operator_client.get(url(cluster) + "registries/add/endpoint/?parent=abc123", **HX).content.decode()
    assert 'name="abc123-endpoint"' in row
    rw = operator_client.get(url(cluster) + "registries/add/rewrite/?parent=abc123", **HX).content.decode()
    assert "Rewrite pattern" in rw and "Rewrite replacement" in rw
    cfg = operator_client.get(url(cluster) + "registries/add/config/", **HX).content.decode()
    assert 'name="config"' in cfg
    assert operator_client.get(url(cluster) + "registries/add/nonsense/").status_code == 404
    assert operator_client.get(url(cluster) + "registries/add/endpoint/?parent=<script>").status_code == 404


def test_the_preview_renders_the_yaml_without_the_password(operator_client, cluster):
    r = post_registries(operator_client, cluster, form(_action="preview"), **HX)
    html = r.content.decode()
    assert r.status_code == 200
    assert "S3cret-pass-xyz" not in html
    assert "docker.io:" in html and "mirrorproject/rancher-images/$1" in html
    assert "&lt;redacted: password of secret (new)&gt;" in html
    assert Mirror.objects.count() == 0, "a preview saves nothing"


def field_errors(html: str, which: str = "preview") -> dict:
    m = re.search(rf'<script id="field-errors-{which}" type="application/json">(.*?)</script>', html, re.S)
    assert m, f"no field-errors-{which} data in the response"
    return json.loads(m.group(1))


def test_the_preview_reports_invalid_fields_for_inline_display(operator_client, cluster):
    html = post_registries(operator_client, cluster, form(_action="preview", **{"e1-url": "ftp://nope"}), **HX).content.decode()
    errors = field_errors(html)
    assert "Scheme" in errors["e1-url"][0]
    assert "e2-url" not in errors, "valid fields have no message (the page clears their old one)"


def test_it_saves_mirrors_configs_and_an_inline_secret(operator_client, cluster):
    r = post_registries(operator_client, cluster, form(), **HX)
    assert r.status_code == 200 and r["X-Regui-Saved"] == "1"
    m = Mirror.objects.get()
    assert m.endpoints == ["https://mirror.example.com:5000", "http://10.0.0.5:5000"]
    assert m.rewrites == [["^rancher/(.*)", "mirrorproject/rancher-images/$1"]]
    c = RegistryConfig.objects.get()
    assert c.auth_secret.kind == "basic" and c.auth_secret.username == "robot"
    assert c.auth_secret.unseal() == {"password": "S3cret-pass-xyz"}
    cluster.refresh_from_db()
    assert cluster.revision == 1


@pytest.mark.django_db(transaction=True)
def test_a_save_outside_any_test_transaction_commits(operator_client, cluster):
    # As in production (no request-wide transaction): PostgreSQL refuses the row lock a save takes
    # unless the save opens its own transaction.
    r = post_registries(operator_client, cluster, form(), **HX)
    assert r.status_code == 200 and r["X-Regui-Saved"] == "1"
    assert Mirror.objects.count() == 1 and RegistryConfig.objects.count() == 1


def test_reloading_shows_the_saved_values_but_never_the_password(operator_client, cluster):
    post_registries(operator_client, cluster, form())
    html = operator_client.get(url(cluster)).content.decode()
    assert 'value="https://mirror.example.com:5000"' in html and 'value="^rancher/(.*)"' in html
    assert "S3cret-pass-xyz" not in html
    secret = Secret.objects.get()
    assert f'value="{secret.id}" selected' in html


def test_it_saves_nothing_while_errors_remain(operator_client, cluster):
    data = form(**{"e2-url": "https://h:99999", "r1-pattern": "(?!x)", "c1-password": ""})
    r = post_registries(operator_client, cluster, data, **HX)
    html = r.content.decode()
    assert "Nothing was saved" in html
    errors = field_errors(html, "save")
    for slot in ("e2-url", "r1-pattern", "c1-password"):
        assert errors[slot], slot
    assert Mirror.objects.count() == 0 and Secret.objects.count() == 0


def test_without_htmx_a_failed_save_re_renders_the_page_with_errors(operator_client, cluster):
    r = post_registries(operator_client, cluster, form(**{"m1-hostname": "https://docker.io"}))
    assert r.status_code == 400
    assert "no scheme" in r.content.decode()
    assert re.search(r'id="err-m1-hostname" role="alert"><span>Give only host', r.content.decode())
    assert "S3cret-pass-xyz" not in r.content.decode()


def test_it_refuses_duplicate_hostnames_and_endpoints(operator_client, cluster):
    data = form(**{"mirror": ["m1", "m2"], "m2-hostname": "docker.io", "e2-url": "mirror.example.com:5000/v2"})
    html = post_registries(operator_client, cluster, data, **HX).content.decode()
    assert "already has a mirror box" in html
    assert "Duplicate of endpoint" in html


def test_a_save_based_on_an_outdated_revision_is_refused(operator_client, cluster):
    post_registries(operator_client, cluster, form(revision=0))
    r = post_registries(operator_client, cluster, form(revision=0, **{"m1-hostname": "quay.io"}), **HX)
    assert "Reload to see their changes" in r.content.decode()
    assert Mirror.objects.get().hostname == "docker.io"


def test_removing_all_boxes_saves_an_empty_configuration(operator_client, cluster):
    post_registries(operator_client, cluster, form(revision=0))
    post_registries(operator_client, cluster, {"revision": "1", "_action": "save"})
    assert Mirror.objects.count() == 0 and RegistryConfig.objects.count() == 0


def test_an_existing_secret_and_tls_material_render_as_node_paths(operator_client, cluster):
    from regui.audit.context import acting
    from regui.registries.services import SecretInput, secret_save
    from tests.certs import key_and_cert

    key, cert = key_and_cert()
    with acting(username="olivia"):  # the operator typed it, so may send it to a host of her choice
        tls = secret_save(data=SecretInput(name="client-cert", kind="tls", certificate=cert, private_key=key,
                                           cluster=cluster))
    data = form(**{"c1-auth": "none", "c1-tls_secret": str(tls.id), "c1-ca_bundle": cert})
    post_registries(operator_client, cluster, data)
    from regui.registries.selectors import cluster_render

    text = cluster_render(cluster)
    base = "/var/lib/rancher/k3s/etc/tls/registries/mirror.example.com:5000"
    assert f"ca_file: {base}/ca.crt" in text and f"cert_file: {base}/tls.crt" in text
    assert f"key_file: {base}/tls.key" in text
    assert "BEGIN" not in text


def test_a_base64_ca_bundle_is_accepted_like_rancher_does(operator_client, cluster):
    import base64

    from tests.certs import key_and_cert

    _, cert = key_and_cert()
    post_registries(operator_client, cluster, form(**{"c1-ca_bundle": base64.b64encode(cert.encode()).decode()}))
    assert RegistryConfig.objects.get().ca_bundle.startswith("-----BEGIN CERTIFICATE-----")


def test_a_viewer_sees_the_page_read_only_and_cannot_save(viewer_client, cluster):
    html = viewer_client.get(url(cluster)).content.decode()
    assert "Read-only:" in html and ">Save<" not in html  # tests/registries/test_read_only_view.py has the rest
    assert post_registries(viewer_client, cluster, form()).status_code == 403
    assert Mirror.objects.count() == 0


def test_only_admins_download_the_real_file(operator_client, admin_client, cluster):
    post_registries(admin_client, cluster, form())
    assert operator_client.get(url(cluster) + "registries.yaml").status_code == 403
    r = admin_client.get(url(cluster) + "registries.yaml")
    assert r.status_code == 200 and "S3cret-pass-xyz" in r.content.decode()
    assert r["Cache-Control"] == "no-store"


def _big_form(n: int, secret_id: int) -> dict:
    data = {"revision": "0", "_action": "preview", "mirror": [], "config": []}
    for i in range(n):
        data["mirror"].append(f"m{i}")
        data.update({f"m{i}-hostname": f"reg{i}.example.com", f"m{i}-endpoint": [f"e{i}"],
                     f"e{i}-url": f"https://mirror{i}.example.com"})
        data["config"].append(f"c{i}")
        data.update({f"c{i}-hostname": f"mirror{i}.example.com", f"c{i}-auth": str(secret_id)})
    return data


def test_the_preview_costs_the_same_few_queries_at_any_size(operator_client, cluster):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    secret = Secret(name="robot", kind="basic", username="robot")
    secret.seal({"password": "pw-77"})
    secret.save()
    counts = []
    for n in (2, 60):
        with CaptureQueriesContext(connection) as queries:
            r = post_registries(operator_client, cluster, _big_form(n, secret.pk), **HX)
        assert r.status_code == 200 and f"mirror{n - 1}.example.com" in r.content.decode()
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 15, counts
