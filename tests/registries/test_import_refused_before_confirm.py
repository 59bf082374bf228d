"""An import the save would refuse its importer (a node's client key file named below admin) is refused
at the preview, which offers no Import, instead of after the confirmation (when the pasted file was gone)."""

from __future__ import annotations

import pytest

from regui.registries.models import Mirror, Secret

pytestmark = pytest.mark.django_db

WITH_CLIENT_FILES = """mirrors:
  "harbor2.kingsd.top":
    endpoint:
      - "https://harbor2.kingsd.top"
configs:
  "harbor2.kingsd.top":
    auth:
      username: admin
      password: Harbor@12345
    tls:
      cert_file: /home/ubuntu/harbor2.kingsd.top.cert
      key_file:  /home/ubuntu/harbor2.kingsd.top.key
      ca_file:   /home/ubuntu/ca.crt
"""


def test_an_operator_is_told_at_the_preview_that_only_an_admin_can_import_client_key_files(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": WITH_CLIENT_FILES})
    html = r.content.decode()
    assert r.status_code == 400 and 'id="import-error"' in html and 'id="import-confirm"' not in html
    assert "Only an admin can import this file" in html
    assert "configs.harbor2.kingsd.top (cert_file): Only an admin can give harbor2.kingsd.top the file " \
           "/home/ubuntu/harbor2.kingsd.top.cert" in html
    assert "configs.harbor2.kingsd.top (key_file):" in html
    assert not Mirror.objects.exists() and not Secret.objects.exists()
    assert "registries-import-" not in "".join(operator_client.session.keys()), "nothing waits for a confirmation"


def test_an_admin_previews_and_imports_the_same_file(admin_client, cluster):
    from tests.pages import confirm_import

    r = admin_client.post(f"/clusters/{cluster.name}/import/", {"text": WITH_CLIENT_FILES})
    assert r.status_code == 200 and 'id="import-confirm"' in r.content.decode()
    assert confirm_import(admin_client, cluster.name, r).status_code == 302
    assert Mirror.objects.get().hostname == "harbor2.kingsd.top"
