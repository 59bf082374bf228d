"""In-process (fake nodes): "Test a pull" runs the node's own pull command through the hosts dir K3s
wrote, over the push's SSH path, and shows which endpoint served it next to "Explain a pull"."""

from __future__ import annotations

import pytest
from django.test import Client

from regui.nodechecks.models import PullTest
from regui.nodechecks.services import CheckRefused, pull_test_create, pull_test_run
from regui.registries.selectors import cluster_render
from regui.remote.probe_parse import parse_pull, resolver_tries
from tests.fakes.k3s import install_k3s, install_rke2, write_hosts

pytestmark = pytest.mark.django_db(transaction=True)

CERTS = "/var/lib/rancher/k3s/agent/etc/containerd/certs.d"
MIRROR = "mirror.example.com:5000"
MIRROR_URL = f"https://{MIRROR}/v2/library/busybox/manifests/1.36?ns=docker.io"
UPSTREAM_URL = "https://registry-1.docker.io/v2/library/busybox/manifests/1.36"


@pytest.fixture
def agent(checks):
    """One agent whose K3s wrote what regui predicts, with `k3s ctr` on its PATH."""
    (node,) = checks.add("agent")
    checks.push()
    write_hosts(checks["a1"], cluster_render(checks.cluster, reveal=True))
    return node, install_k3s(checks["a1"])


def run(checks, node, image="busybox:1.36", **kwargs) -> PullTest:
    test = pull_test_create(node=node, image=image, user=checks.user, **kwargs)
    return PullTest.objects.get(pk=test.pk)  # eager: the task has run by now


def test_a_pull_through_the_mirror_reports_the_endpoint_that_served_it_and_agrees(checks, agent):
    node, ctr = agent
    ctr.answer(MIRROR, "200 OK")
    test = run(checks, node)
    assert (test.state, test.pulled, test.used_tool, test.command) == ("done", True, "ctr", "k3s ctr")
    assert test.image == "docker.io/library/busybox:1.36"
    assert test.served_by == MIRROR_URL
    assert test.agreement == "agrees", test.agreement_text
    assert "attempt 1 served the image" in test.agreement_text
    assert [r["matches"] for r in test.rows] == [True, False], "the server was never needed"
    assert test.image_outcome == "removed" and ctr.images == []
    pull = next(c for c in ctr.calls() if "pull" in c and "--help" not in c)
    assert pull == ["--debug", "-n", "k8s.io", "images", "pull", "--local", "--hosts-dir",
                    str(checks["a1"].path(CERTS)), "docker.io/library/busybox:1.36"]


def test_each_failure_is_shown_and_the_next_endpoint_serves(checks, agent):
    node, ctr = agent
    ctr.answer("registry-1.docker.io", "200 OK")
    test = run(checks, node)
    assert test.agreement == "agrees" and test.served_by == UPSTREAM_URL
    mirror, upstream = test.rows
    assert mirror["observed"]["urls"] == [MIRROR_URL] and "connection refused" in mirror["observed"]["error"]
    assert upstream["observed"]["served"] and upstream["matches"]
    text = page(checks, node)
    assert 'id="pull-agreement"' in text and "connection refused" in text and UPSTREAM_URL in text


def test_a_pull_that_fails_everywhere_agrees_when_every_predicted_endpoint_was_tried(checks, agent):
    node, ctr = agent
    ctr.answer(MIRROR, "404 Not Found")
    test = run(checks, node)
    assert (test.state, test.pulled, test.image_outcome) == ("done", False, "")
    assert test.agreement == "agrees" and "each failed" in test.agreement_text
    assert "could not pull" in test.message and 'ctr: failed to resolve reference' in test.output


def test_a_planted_hosts_toml_makes_the_pull_differ_from_the_prediction(checks, agent):
    node, ctr = agent
    checks["a1"].write(f"{CERTS}/docker.io/hosts.toml",
                       b'server = "https://registry-1.docker.io/v2"\n[host."https://other-mirror.example.com/v2"]\n'
                       b'  capabilities = ["pull", "resolve"]\n')
    ctr.answer("registry-1.docker.io", "200 OK")
    test = run(checks, node)
    assert test.agreement == "differs"
    assert test.agreement_text.startswith(f"They differ at attempt 1: regui predicts {MIRROR_URL}; the node requested "
                                          "https://other-mirror.example.com/v2/library/busybox/manifests/1.36")


def test_the_image_stays_when_asked_and_when_it_was_there_before(checks, agent):
    node, ctr = agent
    ctr.answer(MIRROR, "200 OK")
    assert run(checks, node, keep=True).image_outcome == "kept"
    assert ctr.images == ["docker.io/library/busybox:1.36"]
    ctr.add_image("docker.io/library/alpine:3")
    test = run(checks, node, image="alpine:3")
    assert test.image_outcome == "was-present" and "on the node before the test" in test.message
    assert "docker.io/library/alpine:3" in ctr.images


def test_a_ctr_without_the_local_flag_pulls_in_ctr_itself(checks):
    (node,) = checks.add("agent")
    ctr = install_k3s(checks["a1"], local_flag=False)  # containerd 1.6
    ctr.answer("registry-1.docker.io", "200 OK")
    test = run(checks, node)
    assert test.pulled and "--local" not in next(c for c in ctr.calls() if "pull" in c and "--help" not in c)


def test_rke2s_bundled_ctr_is_used_with_its_containerd_socket(checks):
    checks.cluster.distro = "rke2"
    checks.cluster.save()
    (node,) = checks.add("agent")
    ctr = install_rke2(checks["a1"])
    ctr.answer("registry-1.docker.io", "200 OK")
    test = run(checks, node)
    assert test.used_tool == "ctr"
    assert test.command == "/var/lib/rancher/rke2/bin/ctr --address /run/k3s/containerd/containerd.sock"
    assert "/var/lib/rancher/rke2/agent/etc/containerd/certs.d" in str(ctr.calls())


def test_crictl_is_used_where_there_is_no_ctr_and_cannot_say_which_endpoint_served(checks):
    checks.cluster.distro = "rke2"
    checks.cluster.save()
    (node,) = checks.add("agent")
    ctr = install_rke2(checks["a1"], ctr=False)
    ctr.answer(MIRROR, "200 OK")
    test = run(checks, node)
    assert (test.used_tool, test.pulled, test.image_outcome) == ("crictl", True, "removed")
    assert test.agreement == "unknown" and "crictl pulls through the CRI" in test.agreement_text
    assert [r["predicted"] for r in test.rows] == [[MIRROR_URL], [UPSTREAM_URL]], "the prediction is still shown"


def test_crictl_can_be_chosen_on_a_node_that_has_both(checks, agent):
    node, ctr = agent
    ctr.answer(MIRROR, "200 OK")
    test = run(checks, node, tool="crictl")
    assert (test.used_tool, test.command) == ("crictl", "k3s crictl")


def test_a_node_without_a_pull_command_gets_a_clear_message(checks):
    (node,) = checks.add("agent")
    test = run(checks, node)
    assert test.state == "failed" and test.used_tool == "none"
    assert test.message.startswith("The node has no pull command regui can use: it looked for `k3s ctr` and "
                                   "`k3s crictl`, then crictl on the PATH. Nothing was pulled.")
    assert "no pull command" in page(checks, node)


def test_an_untrusted_node_is_refused_and_sent_nothing(checks):
    (node,) = checks.add("agent", approve=False)
    with pytest.raises(CheckRefused, match="no approved host key"):
        pull_test_create(node=node, image="busybox", user=checks.user)
    assert not PullTest.objects.exists() and checks["a1"].connects == []
    # One queued before the key's approval was taken back meets the same gate in the worker.
    test = PullTest.objects.create(node=node, image="docker.io/library/busybox:latest")
    assert pull_test_run(test.pk).state == "failed" and checks["a1"].connects == []


def test_a_bad_image_name_is_refused_before_anything_is_queued(checks, agent):
    node, _ = agent
    client = Client()
    client.force_login(checks.user)
    r = client.post(f"/clusters/{checks.cluster.name}/nodes/{node.pk}/checks/pull/",
                    {"image": "Busybox;rm -rf /", "tool": "auto"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400 and "Nothing was pulled: Not an image reference" in r.content.decode()
    assert not PullTest.objects.exists()


def test_the_form_runs_a_pull_for_an_operator_only(checks, agent, make_user):
    node, ctr = agent
    ctr.answer(MIRROR, "200 OK")
    client = Client()
    client.force_login(make_user("victor", "viewer"))
    url = f"/clusters/{checks.cluster.name}/nodes/{node.pk}/checks/pull/"
    assert client.post(url, {"image": "busybox:1.36", "tool": "auto"}).status_code == 403
    assert "Test a pull</button>" not in page(checks, node, client=client)
    client.force_login(checks.user)
    r = client.post(url, {"image": "busybox:1.36", "tool": "auto"})
    assert r.status_code == 302 and r["Location"] == f"/clusters/{checks.cluster.name}/nodes/{node.pk}/"
    text = page(checks, node)
    assert f'id="served-by">{MIRROR_URL}<' in text
    assert 'data-agreement="agrees"' in text


def test_a_401_from_an_endpoint_regui_has_credentials_for_is_explained(checks, agent):
    node, ctr = agent  # the fleet's mirror has a username and password
    ctr.answer(MIRROR, "401 Unauthorized")
    ctr.answer("registry-1.docker.io", "200 OK")
    test = run(checks, node)
    assert test.agreement == "agrees" and test.rows[0]["needs_credentials"]
    assert "pulls without the registry credentials K3s gives containerd's CRI" in test.agreement_text


def page(checks, node, user=None, client=None) -> str:
    if client is None:
        client = Client()
        client.force_login(user or checks.user)
    return client.get(f"/clusters/{checks.cluster.name}/nodes/{node.pk}/checks/").content.decode()


# containerd 1.6.20's ctr --debug, as the pull program passes it on (headers dropped on the node).
CTR_16 = """\
time="2026-11-29T00:59:44Z" level=debug msg=resolving host="127.0.0.1:9"
time="2026-11-29T00:59:44Z" level=debug msg="do request" host="127.0.0.1:9" request.method=HEAD url="http://127.0.0.1:9/v2/harness/tiny/manifests/v1?ns=mirror.harness.test"
time="2026-11-29T00:59:44Z" level=info msg="trying next host" error="failed to do request: Head \\"http://127.0.0.1:9/v2/harness/tiny/manifests/v1?ns=mirror.harness.test\\": dial tcp 127.0.0.1:9: connect: connection refused" host="127.0.0.1:9"
time="2026-11-29T00:59:44Z" level=debug msg=resolving host="127.0.0.1:41401"
time="2026-11-29T00:59:44Z" level=debug msg="do request" host="127.0.0.1:41401" request.method=HEAD url="http://127.0.0.1:41401/v2/harness/tiny/manifests/v1?ns=mirror.harness.test"
time="2026-11-29T00:59:44Z" level=debug msg="fetch response received" host="127.0.0.1:41401" response.status="200 OK" url="http://127.0.0.1:41401/v2/harness/tiny/manifests/v1?ns=mirror.harness.test"
time="2026-11-29T00:59:44Z" level=debug msg=resolved desc.digest="sha256:121658350be13ee065c33566e0992dea0de80f70af53e6f093372f05462e9dbf" host="127.0.0.1:41401"
"""


def test_containerd_s_resolver_log_is_read_host_by_host():
    first, second = resolver_tries(CTR_16.splitlines())
    assert (first.host, first.served, first.statuses) == ("127.0.0.1:9", False, [])
    assert first.error.startswith('failed to do request: Head "http://127.0.0.1:9/v2/harness/tiny/manifests/v1')
    assert (second.host, second.served, second.statuses) == ("127.0.0.1:41401", True, ["200 OK"])
    assert second.urls == ["http://127.0.0.1:41401/v2/harness/tiny/manifests/v1?ns=mirror.harness.test"]


def test_the_pull_report_is_read_from_its_own_lines_only():
    stdout = ("RG-TOOL ctr k3s ctr\nRG-PRESENT 0\nRG-PULL 0\n"
              + "".join(f"RG-LOG {line}\n" for line in CTR_16.splitlines())
              + "unrelated output\nRG-IMAGE removed\n")
    report = parse_pull(stdout)
    assert (report.tool, report.command, report.pulled, report.image) == ("ctr", "k3s ctr", True, "removed")
    assert [t.host for t in report.tries] == ["127.0.0.1:9", "127.0.0.1:41401"]
