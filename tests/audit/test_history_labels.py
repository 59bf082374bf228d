"""History shows the form's labels for recorded fields, not the column names (issue 11 item 13)."""

from __future__ import annotations

import csv
import io

import pytest

from regui.audit.context import acting
from regui.audit.labels import field_label
from regui.audit.models import AuditEvent
from regui.audit.services import audit_record

pytestmark = pytest.mark.django_db

CONFIG_CHANGES = {"auth_secret": [None, "robot"], "empty_auth": [False, True], "insecure_skip_verify": [False, True],
                  "ca_bundle": [None, "PEM sha256:0123"]}


@pytest.mark.parametrize("object_type,name,label", [
    ("registry_config", "auth_secret", "Authentication"),
    ("registry_config", "tls_secret", "TLS Secret"),
    ("registry_config", "ca_bundle", "CA Cert Bundle"),
    ("registry_config", "insecure_skip_verify", "Skip TLS Verifications"),
    ("registry_config", "ca_file", "CA file path"),
    ("registry_config", "cert_file", "Client certificate path"),
    ("registry_config", "key_file", "Client key path"),
    ("registry_config", "empty_auth", "Empty auth block"),
    ("registry_config", "empty_tls", "Empty TLS block"),
    ("mirror", "endpoints", "Mirror Endpoints"),
    ("mirror", "rewrites", "Rewrites"),
    ("secret", "kind", "Type"),
    ("secret", "identity_token", "Identity Token"),
    ("secret", "private_key", "Private Key"),
    ("secret", "shared_with", "Shared with"),
    ("node", "ssh_user", "SSH user"),
    ("node", "credential_kind", "Credential"),
    ("node", "use_sudo", "Use sudo"),
    ("cluster", "embedded_registry", "--embedded-registry"),
    ("user", "is_active", "Active"),
])
def test_a_field_is_named_by_its_form_label_for_its_object_type(object_type, name, label):
    assert field_label(object_type, name) == label


def test_keys_that_are_no_field_are_put_in_words():
    assert field_label("push_job", "nodes") == "Nodes"
    assert field_label("node", "approved_by") == "Approved by"
    assert field_label("no-such-type", "some_field") == "Some field"


def test_a_field_is_named_by_its_verbose_name_through_the_entrys_type():
    assert field_label("user", "is_active") == "Active"  # Django's own verbose_name, not "Is active"
    assert field_label("secret", "shared_with") == "Shared with"


def _config_entry() -> AuditEvent:
    with acting(username="olivia"):
        return audit_record(action="update", object_type="registry_config", object_repr="mirror.example.com",
                            changes=CONFIG_CHANGES)


def test_the_entry_page_shows_labels_with_the_field_name_as_their_title(admin_client):
    page = admin_client.get(f"/history/{_config_entry().pk}/").content.decode()
    for name in ("auth_secret", "empty_auth"):
        assert f'<th scope="row" title="{name}">{field_label("registry_config", name)}</th>' in page
    assert ">auth_secret<" not in page and ">empty_auth<" not in page


def test_an_expanded_history_row_shows_the_labels_too(admin_client):
    entry = _config_entry()
    fragment = admin_client.get(f"/history/{entry.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'id="entry-detail-' in fragment
    assert f'title="insecure_skip_verify">{field_label("registry_config", "insecure_skip_verify")}</th>' in fragment


def test_the_csv_export_keeps_the_field_names_for_scripts(admin_client):
    _config_entry()
    response = admin_client.get("/history/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert '"auth_secret"' in rows[0]["changes"] and '"empty_auth"' in rows[0]["changes"]
    assert "Authentication" not in rows[0]["changes"]
