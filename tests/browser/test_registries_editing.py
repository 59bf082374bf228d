"""A person in Chromium editing the Registries page (issue 11 items 1, 2, 3, 8 and 9): a viewer sees what
an operator sees; edits survive leaving the page; a failed save shows where; Edit as YAML; duplicate a
mirror and paste several endpoints."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Typed-In-Browser-Pw-1"


@pytest.fixture(autouse=True)
def under_the_policy(page):
    """Everything here runs from the static scripts alone: no policy violation, nothing htmx would eval."""
    from tests.browser.test_content_security_policy import WATCH, violations

    page.add_init_script(WATCH)
    yield
    assert violations(page) == []


def saved_cluster():
    from regui.registries.draft import ConfigBox, Draft, EndpointRow, MirrorBox, RewriteRow, new_token
    from regui.registries.models import Cluster
    from regui.registries.services import SecretInput, registries_save, secret_save

    cluster = Cluster.objects.create(name="prod", distro="k3s")
    robot = secret_save(data=SecretInput(name="robot", kind="basic", username="robot", password="pw-robot-1",
                                         cluster=cluster))
    registries_save(cluster=cluster, draft=Draft(revision=0, mirrors=[
        MirrorBox(new_token(), "docker.io", [EndpointRow(new_token(), "https://mirror.example.com:5000")],
                  [RewriteRow(new_token(), "^rancher/(.*)", "mirrorproject/rancher-images/$1")]),
    ], configs=[
        ConfigBox(new_token(), "mirror.example.com:5000", auth=str(robot.pk), insecure_skip_verify=True),
    ]))
    return cluster


def preview_text(page: Page) -> str:
    expect(page.locator("#preview-yaml")).to_contain_text("mirrors:")
    return page.locator("#preview-yaml").inner_text()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login/"))


def test_a_viewer_sees_the_operators_preview_read_only(logged_in, live_server):
    saved_cluster()
    page = logged_in("olivia", "operator")
    page.goto(f"{live_server.url}/clusters/prod/")
    operators = preview_text(page)
    page.locator("label[for=tab-hosts]").click()
    operators_hosts = page.locator("#preview-hosts").inner_text()
    log_out(page)

    page = logged_in("victor", "viewer")
    page.goto(f"{live_server.url}/clusters/prod/")
    expect(page.locator("#read-only-note")).to_contain_text("Read-only: your role is viewer")
    assert preview_text(page) == operators
    assert "docker.io:" in operators and "<redacted: password of secret robot>" in operators
    page.locator("label[for=tab-hosts]").click()
    expect(page.locator("#preview-hosts")).to_contain_text('[host."https://mirror.example.com:5000/v2"]')
    assert page.locator("#preview-hosts").inner_text() == operators_hosts
    page.locator("label[for=tab-explain]").click()
    page.fill("#explain-image", "rancher/pause:3.6")
    expect(page.locator("#preview-explain")).to_contain_text(
        "https://mirror.example.com:5000/v2/mirrorproject/rancher-images/pause/manifests/3.6?ns=docker.io")

    hostname = page.locator(".mirror-box").first.get_by_label("Registry Hostname")
    expect(hostname).to_have_value("docker.io")
    expect(hostname).not_to_be_editable()
    expect(page.locator(".config-box").first.get_by_label("Authentication")).to_be_disabled()
    for name in ("Save", "Add Mirror", "Add Endpoint", "Duplicate mirror", "Remove mirror", "Add Registry"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    # The YAML view too: the same file, to read.
    page.get_by_role("tab", name="Edit as YAML").click()
    expect(page.locator("#yaml-text")).to_have_value(re.compile(r"docker\.io:"))
    expect(page.locator("#yaml-text")).not_to_be_editable()
    expect(page.get_by_role("button", name="Apply to the form")).to_have_count(0)


def test_edits_survive_leaving_the_page_and_a_saved_banner_never_lies(logged_in, live_server):
    from regui.registries.models import Mirror, UnsavedEdits

    saved_cluster()
    page = logged_in()
    page.goto(f"{live_server.url}/clusters/prod/")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#save-done")).to_have_text("Nothing changed: no new revision.")  # saved as it was

    # Five more mirrors, typed.
    for i in range(5):
        page.get_by_role("button", name="Add Mirror").click()
        box = page.locator(".mirror-box").nth(i + 1)
        box.get_by_label("Registry Hostname").fill(f"registry{i}.example.com")
        box.locator(".endpoint-row input[type=text]").first.fill(f"https://mirror{i}.example.com")
    expect(page.locator("#save-done")).to_be_hidden()  # the form differs from what was saved

    # The Nodes tab: the page asks first; staying keeps everything.
    dialogs: list[str] = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("link", name="Nodes").click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    expect(page).to_have_url(f"{live_server.url}/clusters/prod/")
    expect(page.locator(".mirror-box")).to_have_count(6)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Nodes").click()
    page.wait_for_url(re.compile(r"/nodes/"))
    # Kept on the server, without asking anyone to wait for it.
    for _ in range(50):
        if UnsavedEdits.objects.exists() and len(UnsavedEdits.objects.get().data["mirrors"]) == 6:
            break
        page.wait_for_timeout(100)
    page.go_back()
    page.wait_for_url(f"{live_server.url}/clusters/prod/")
    if page.locator(".mirror-box").count() == 1:  # not kept by the browser's back/forward cache: offered
        expect(page.locator(".unsaved-offer")).to_contain_text("You have unsaved edits of these registries")
        page.get_by_role("button", name=re.compile("Restore your unsaved edits from")).click()
        expect(page.locator("#unsaved-restored")).to_contain_text("Restored your unsaved edits")
    expect(page.locator(".mirror-box")).to_have_count(6)
    expect(page.locator(".mirror-box").nth(5).get_by_label("Registry Hostname")).to_have_value("registry4.example.com")
    expect(page.locator("#preview-yaml")).to_contain_text("https://mirror4.example.com")

    # A fresh visit offers them too; Save keeps them and the offer goes.
    page.goto(f"{live_server.url}/clusters/prod/")
    page.get_by_role("button", name=re.compile("Restore your unsaved edits from")).click()
    expect(page.locator(".mirror-box")).to_have_count(6)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".msg.success")).to_contain_text("saved")
    assert Mirror.objects.count() == 6
    expect(page.locator("#unsaved-offer")).to_be_empty()
    assert not UnsavedEdits.objects.exists()

    # Back to what was saved: the banner shows again; a typed password alone is worth a warning too.
    page.locator(".mirror-box").nth(1).get_by_label("Registry Hostname").fill("changed.example.com")
    expect(page.locator(".msg.success")).to_be_hidden()
    page.locator(".mirror-box").nth(1).get_by_label("Registry Hostname").fill("registry0.example.com")
    expect(page.locator(".msg.success")).to_be_visible()


def test_a_failed_save_shows_the_first_error_and_counts_them_at_the_save_button(logged_in, live_server):
    from regui.registries.models import Mirror

    saved_cluster()
    page = logged_in()
    page.goto(f"{live_server.url}/clusters/prod/")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#save-done")).to_have_text("Nothing changed: no new revision.")
    for i in range(8):  # a long page: the errors are far above the Save button
        page.get_by_role("button", name="Add Mirror").click()
        box = page.locator(".mirror-box").nth(i + 1)
        box.get_by_label("Registry Hostname").fill(f"registry{i}.example.com")
        box.locator(".endpoint-row input[type=text]").first.fill(f"https://mirror{i}.example.com")
    first = page.locator(".mirror-box").nth(0).locator(".endpoint-row input[type=text]").first
    first.fill("ftp://mirror.example.com")
    page.locator(".mirror-box").nth(3).get_by_label("Registry Hostname").fill("https://bad.example.com")
    page.get_by_role("button", name="Save").scroll_into_view_if_needed()
    page.mouse.wheel(0, 10000)
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#save-summary")).to_contain_text("Nothing was saved")
    expect(first).to_be_focused()
    expect(first).to_be_in_viewport()
    expect(page.locator("#save-attention")).to_have_text("2 fields need attention")
    expect(page.locator(".msg.success")).to_have_count(0)
    assert Mirror.objects.count() == 1

    first.fill("https://mirror.example.com")  # the count follows the fields as they are fixed
    expect(page.locator("#save-attention")).to_have_text("1 field needs attention")
    # A refusal with no field to point at (someone saved meanwhile): the message itself gets focus.
    from regui.registries.models import Cluster

    Cluster.objects.filter(name="prod").update(revision=99)
    page.locator(".mirror-box").nth(3).get_by_label("Registry Hostname").fill("good.example.com")
    expect(page.locator("#save-attention")).to_have_text("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#save-summary")).to_contain_text("Reload to see their changes")
    expect(page.locator("#save-summary")).to_be_focused()


def test_an_operator_edits_the_registries_as_yaml(logged_in, live_server):
    from regui.registries.models import Mirror, RegistryConfig

    saved_cluster()
    page = logged_in()
    page.goto(f"{live_server.url}/clusters/prod/")
    page.get_by_role("button", name="Add Registry").click()
    box = page.locator(".config-box").nth(1)
    box.get_by_label("Registry Hostname").fill("typed.example.com")
    box.get_by_label("Authentication").select_option(label="Create an HTTP Basic Auth Secret")
    box.get_by_label("Username").fill("typed-user")
    box.get_by_label("Password").fill(PASSWORD)

    page.get_by_role("tab", name="Edit as YAML").click()
    text = page.locator("#yaml-text")
    expect(text).to_have_value(re.compile(r"typed\.example\.com:\n    auth:\n      username: typed-user\n"
                                          r"      password: \"<redacted: password of secret \(new\)>\""))
    assert PASSWORD not in text.input_value()
    expect(page.locator(".mirror-box").first).to_be_hidden()

    # K3s would refuse this: said with its line, and the form stays as it was.
    text.fill(text.input_value().replace("mirrors:", "mirrors: [", 1))
    page.get_by_role("button", name="Apply to the form").click()
    expect(page.locator("#yaml-refused")).to_contain_text(
        "Not applied: K3s would refuse this file at line 4 (its log would say: yaml: line 3: ")
    # Save while the text holds edits not applied: refused, with why; leaving asks first.
    page.get_by_role("tab", name="Form").click()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#yaml-result")).to_contain_text("Apply the YAML to the form first")
    expect(text).to_be_visible()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name="Nodes").click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    page.get_by_role("button", name="Start again from the form").click()
    expect(text).to_have_value(re.compile(r"\nmirrors:\n  docker.io:"))

    edited = text.input_value().replace("https://mirror.example.com:5000", "https://mirror.example.com:5000\n"
                                        "      - http://10.0.0.5:5000") + (
        "  quay.io.example.com:\n    auth:\n      username: yaml-user\n      password: yaml-typed-Pw-2\n")
    edited = edited.replace("mirrors:\n", "mirrors:\n  quay.io:\n    endpoint:\n      - https://quay-mirror.example.com\n")
    text.fill(edited)
    page.get_by_role("button", name="Apply to the form").click()
    expect(page.locator("#yaml-applied")).to_contain_text("Applied to the form: 2 mirror(s), 3 registry authentication")
    expect(page.locator("#preview-yaml")).to_contain_text("https://quay-mirror.example.com")
    expect(page.locator("#preview-yaml")).to_contain_text("http://10.0.0.5:5000")

    page.get_by_role("tab", name="Form").click()
    expect(page.locator(".mirror-box")).to_have_count(2)
    expect(page.locator(".mirror-box").first.get_by_label("Registry Hostname")).to_have_value("quay.io")
    typed = page.locator(".config-box").nth(1)
    expect(typed.get_by_label("Registry Hostname")).to_have_value("typed.example.com")
    expect(typed.get_by_label("Password")).to_have_value(PASSWORD)  # kept in the browser across the swap
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".msg.success")).to_contain_text("saved")

    assert sorted(Mirror.objects.values_list("hostname", flat=True)) == ["docker.io", "quay.io"]
    assert Mirror.objects.get(hostname="docker.io").endpoints == ["https://mirror.example.com:5000",
                                                                  "http://10.0.0.5:5000"]
    secrets = {c.hostname: c.auth_secret for c in RegistryConfig.objects.select_related("auth_secret")}
    assert secrets["mirror.example.com:5000"].name == "robot"
    assert secrets["typed.example.com"].unseal() == {"password": PASSWORD}
    assert secrets["quay.io.example.com"].unseal() == {"password": "yaml-typed-Pw-2"}
    assert secrets["quay.io.example.com"].username == "yaml-user"


def paste(page: Page, locator, text: str) -> None:
    locator.fill("")  # the pasted text replaces what the field held
    page.evaluate("""([id, text]) => {
        const data = new DataTransfer();
        data.setData("text/plain", text);
        document.getElementById(id).dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                                               cancelable: true}));
    }""", [locator.get_attribute("id"), text])


def test_an_operator_duplicates_a_mirror_and_pastes_several_endpoints(logged_in, live_server):
    from regui.registries.models import Mirror

    saved_cluster()
    page = logged_in()
    page.goto(f"{live_server.url}/clusters/prod/")
    first = page.locator(".mirror-box").first
    paste(page, first.locator(".endpoint-row input[type=text]").first,
          "https://a.example.com\nhttps://b.example.com\r\nhttps://c.example.com\n")
    expect(first.locator(".endpoint-row")).to_have_count(3)
    expect(first.locator(".endpoint-row input[type=text]").nth(2)).to_have_value("https://c.example.com")

    first.get_by_role("button", name="Duplicate mirror").click()
    expect(page.locator(".mirror-box")).to_have_count(2)
    copy = page.locator(".mirror-box").nth(1)
    expect(copy.get_by_label("Registry Hostname")).to_be_focused()
    expect(copy.get_by_label("Registry Hostname")).to_have_value("")
    expect(copy.locator(".endpoint-row input[type=text]")).to_have_count(3)
    expect(copy.get_by_label("Rewrite replacement")).to_have_value("mirrorproject/rancher-images/$1")
    copy.get_by_label("Registry Hostname").fill("quay.io")
    # Typed with commas, then left: split as well.
    copy.locator(".endpoint-row input[type=text]").nth(2).fill("https://c.example.com, https://d.example.com")
    copy.locator(".endpoint-row input[type=text]").nth(2).press("Tab")
    expect(copy.locator(".endpoint-row")).to_have_count(4)
    expect(page.locator("#preview-yaml")).to_contain_text("https://d.example.com")

    page.get_by_role("button", name="Save").click()
    expect(page.locator(".msg.success")).to_contain_text("saved")
    mirrors = {m.hostname: m for m in Mirror.objects.all()}
    assert mirrors["docker.io"].endpoints == ["https://a.example.com", "https://b.example.com", "https://c.example.com"]
    assert mirrors["quay.io"].endpoints == ["https://a.example.com", "https://b.example.com", "https://c.example.com",
                                            "https://d.example.com"]
    assert mirrors["quay.io"].rewrites == mirrors["docker.io"].rewrites
