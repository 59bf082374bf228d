"""People in Chromium on the fleet pages: an admin makes a shared SSH credential (its value never comes
back) and gives it to nodes, an operator cannot reach it; an operator imports nodes from an Ansible
INI inventory through the preview."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Fleet-Browser-Pw-4417"
INI = """[server]
10.20.0.11 ansible_user=core

[agent]
10.20.0.21
10.20.0.22 ansible_port=2222

[k3s_cluster:children]
server
agent
"""


def test_an_admin_makes_a_write_only_credential_and_gives_it_to_nodes(logged_in, live_server, browser):
    from regui.inventory.credentials.models import NodeCredential, SharedCredential
    from regui.inventory.models import Node
    from regui.registries.models import Cluster

    cluster = Cluster.objects.create(name="prod", distro="k3s")
    n1 = Node.objects.create(cluster=cluster, name="a1", address="10.20.0.21")
    Node.objects.create(cluster=cluster, name="a2", address="10.20.0.22")
    page = logged_in("alice", "admin")

    page.get_by_role("link", name="SSH credentials").click()
    page.get_by_label("Name").fill("fleet-root")
    page.get_by_label("Credential").select_option("password")
    page.get_by_label("Private key or password").fill(PASSWORD)
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".msg.success")).to_contain_text("fleet-root")
    row = page.locator("tr", has_text="fleet-root")
    expect(row).to_contain_text("Password")
    assert PASSWORD not in page.content()
    row.get_by_role("link", name="Rotate").click()  # write-only: the form to replace it is empty
    expect(page.get_by_label("Private key or password")).to_have_value("")
    assert PASSWORD not in page.content()

    for node in Node.objects.order_by("name"):
        page.goto(f"{live_server.url}/clusters/prod/nodes/{node.pk}/")
        page.get_by_role("link", name="SSH credential", exact=True).click()
        page.get_by_label("Log in with").select_option("fleet-root")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".msg.success")).to_contain_text(f"{node.name} now logs in with fleet-root")
    page.goto(f"{live_server.url}/clusters/prod/nodes/{n1.pk}/credential/")
    expect(page.locator("main")).to_contain_text("the shared credential fleet-root")
    page.get_by_role("link", name="SSH credentials").click()
    expect(page.locator("tr", has_text="fleet-root")).to_contain_text("2")
    assert PASSWORD not in page.content()
    assert SharedCredential.objects.get().unseal_value() == (PASSWORD, "")
    assert sorted(NodeCredential.objects.values_list("node__name", flat=True)) == ["a1", "a2"]

    page.goto(f"{live_server.url}/history/?object_type=ssh_credential")
    expect(page.locator("#history-results")).to_contain_text("fleet-root")
    assert PASSWORD not in page.content()

    # An operator, in a browser of their own: no link, and the page itself refuses.
    other = browser.new_context().new_page()
    _login(other, live_server, "olivia", "operator")
    expect(other.get_by_role("link", name="SSH credentials")).to_have_count(0)
    response = other.goto(f"{live_server.url}/ssh-credentials/")
    assert response is not None and response.status == 403
    assert "fleet-root" not in other.content()


def _login(page, live_server, username: str, role: str) -> None:
    from django.contrib.auth.models import User

    from regui.core.services import user_set_role

    user = User.objects.create_user(username=username, password=f"pw-{username}-Longer1")
    user_set_role(user=user, role=role)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}-Longer1")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_an_operator_imports_an_ansible_inventory_through_the_preview(logged_in, live_server):
    from regui.inventory.models import Node
    from regui.registries.models import Cluster

    Cluster.objects.create(name="prod", distro="k3s")
    page = logged_in("olivia", "operator")
    page.goto(f"{live_server.url}/clusters/prod/nodes/")
    page.get_by_role("link", name="Import nodes").click()
    page.get_by_label("Inventory").fill(INI)
    page.get_by_label("SSH user").fill("root")
    page.get_by_role("button", name="Preview").click()

    table = page.locator("table#import-nodes")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).to_contain_text("10.20.0.11")
    expect(table.locator("tr", has_text="10.20.0.22")).to_contain_text("2222")
    expect(table.locator("tr", has_text="10.20.0.11")).to_contain_text("core")
    assert not Node.objects.exists()  # a preview saves nothing

    page.get_by_label("Credential", exact=True).select_option("password")
    page.locator("#id_credential").fill("Import-Node-Pw-9")
    page.get_by_role("button", name="Add 3 node(s)").click()
    expect(page.locator(".msg.success")).to_contain_text("Imported 3 node(s)")
    expect(page).to_have_url(f"{live_server.url}/clusters/prod/nodes/")
    expect(page.locator("#nodes .node-row")).to_have_count(3)
    assert "Import-Node-Pw-9" not in page.content()
    nodes = {n.address: (n.role, n.port, n.ssh_user) for n in Node.objects.all()}
    assert nodes == {"10.20.0.11": ("server", 22, "core"), "10.20.0.21": ("agent", 22, "root"),
                     "10.20.0.22": ("agent", 2222, "root")}
