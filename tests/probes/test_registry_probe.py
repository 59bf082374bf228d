"""The registry probe (regui/remote/registry_probe.py, its client registry_http.py) against a tiny
registry on 127.0.0.1 threads: each step in words, whatever the network, TLS or the registry does,
and never a secret."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from regui.remote.challenges import parse_challenges
from regui.remote.registry_http import Limits
from regui.remote.registry_probe import Credentials, Target, probe, probe_all
from regui.remote.registry_tls import TLSMaterial
from tests.probes.servers import DIGEST, FakeRegistry, issue, make_ca, serve

REPO, REF = "team/app", "v1"
CREDS = Credentials("robot", "s3cret-Pa55", 'configs["x"] (secret robot-pass, user robot)')


@pytest.fixture(scope="module")
def ca():
    return make_ca("probe-test-ca")


@pytest.fixture(scope="module")
def server_cert(ca):
    return issue(ca, "registry.probe.test")


def target(reg: FakeRegistry, *, creds=None, tls=None, image=True, roots=None) -> Target:
    tls = tls or TLSMaterial()
    return Target(label="mirror 1 of registry.probe.test", roots=tuple(roots or (f"{reg.url}/v2",)),
                  manifest=f"/v2/{REPO}/manifests/{REF}?ns=registry.probe.test" if image else "",
                  repository=REPO, credentials=creds, tls=tls)


def words(report) -> str:
    return "\n".join(s.text for s in report.steps)


def everything(report) -> str:
    return json.dumps(report.as_dict())


def test_a_plain_registry_answers_and_has_the_image(tmp_path):
    with serve(FakeRegistry(manifests={f"{REPO}:{REF}"})) as reg:
        report = probe(target(reg))
    assert report.outcome == "ok", words(report)
    assert [s.what for s in report.steps] == ["connect", "ping", "manifest"]
    assert "a registry (registry/2.0)" in report.steps[1].text
    assert DIGEST in report.steps[2].text and DIGEST in report.summary
    assert all(s.ms is not None for s in report.steps)


def test_without_an_image_only_the_api_root_is_checked(tmp_path):
    with serve(FakeRegistry()) as reg:
        report = probe(target(reg, image=False))
    assert report.outcome == "ok" and "no image checked" in report.summary
    assert [s.method for s in reg.seen] == ["GET"]


def test_basic_authentication_with_good_credentials_over_tls_is_accepted(tmp_path, ca, server_cert):
    tls = TLSMaterial(ca_pem=ca.pem, ca_label="the CA Cert Bundle of registry.probe.test")
    with serve(FakeRegistry(auth="basic", manifests={f"{REPO}:{REF}"}), cert=server_cert, workdir=tmp_path) as reg:
        report = probe(target(reg, creds=CREDS, tls=tls))
    assert report.outcome == "ok", words(report)
    text = words(report)
    assert "TLSv1.3: certificate subject CN=registry.probe.test, issued by CN=probe-test-ca" in text
    assert "verified against the system CAs and the CA Cert Bundle of registry.probe.test" in text
    assert "sending the credentials of configs[\"x\"] (secret robot-pass, user robot)" in text
    assert "200 OK, a registry (registry/2.0) with the credentials" in text
    assert "s3cret-Pa55" not in everything(report)


def test_basic_authentication_with_a_wrong_password_is_rejected(tmp_path):
    wrong = Credentials("robot", "not-the-password", CREDS.label)
    with serve(FakeRegistry(auth="basic")) as reg:
        report = probe(target(reg, creds=wrong))
    assert report.outcome == "failed"
    assert "the registry rejected the credentials of configs[\"x\"]" in report.summary
    assert "401 Unauthorized (UNAUTHORIZED: authentication required)" in report.summary
    assert "not-the-password" not in everything(report)


def test_basic_authentication_without_credentials_says_none_are_configured(tmp_path):
    with serve(FakeRegistry(auth="basic")) as reg:
        report = probe(target(reg))
    assert report.outcome == "failed"
    assert 'asks for Basic credentials (realm "fake-registry"), and none are configured for this host' in report.summary
    assert all(s.authorization == "" for s in reg.seen), "nothing was sent"


def test_an_identity_token_alone_cannot_answer_a_basic_challenge(tmp_path):
    token_only = Credentials("", "identity-tok-123", 'configs["x"] (secret idt)')
    with serve(FakeRegistry(auth="basic")) as reg:
        report = probe(target(reg, creds=token_only))
    assert "has no username and password (containerd: no basic auth credentials)" in report.summary
    assert "identity-tok-123" not in everything(report)


def test_a_bearer_registry_gets_its_tokens_by_get_after_the_oauth_post_is_refused(tmp_path):
    with serve(FakeRegistry(auth="bearer", manifests={f"{REPO}:{REF}"})) as reg:
        report = probe(target(reg, creds=CREDS))
        tokens = list(reg.tokens)
    assert report.outcome == "ok", words(report)
    text = words(report)
    assert "answered the OAuth POST with 404: containerd asks again with GET" in text
    assert f"got a token from the token service {reg.url}/token (GET, the credentials of" in text
    assert f"scope repository:{REPO}:pull" in text, "a second token, for the pull, as containerd asks"
    assert [(s.method, s.path.split("?")[0], s.authorization) for s in reg.seen] == [
        ("GET", "/v2/", ""), ("POST", "/token", ""), ("GET", "/token", "Basic"), ("GET", "/v2/", "Bearer"),
        ("HEAD", f"/v2/{REPO}/manifests/{REF}", "Bearer"), ("POST", "/token", ""), ("GET", "/token", "Basic"),
        ("HEAD", f"/v2/{REPO}/manifests/{REF}", "Bearer")]
    assert tokens and not any(t in everything(report) for t in tokens), "tokens are never shown"
    assert "s3cret-Pa55" not in everything(report)


def test_a_bearer_registry_with_oauth_takes_containerds_post(tmp_path):
    with serve(FakeRegistry(auth="bearer", oauth=True, manifests={f"{REPO}:{REF}"})) as reg:
        report = probe(target(reg, creds=CREDS))
    assert report.outcome == "ok", words(report)
    assert "(OAuth POST, credentials of" in words(report)
    post = next(s for s in reg.seen if s.method == "POST")
    assert "grant_type=password" in post.body and "client_id=containerd-client" in post.body


def test_a_bearer_registry_with_wrong_credentials_says_the_token_service_rejected_them(tmp_path):
    wrong = Credentials("robot", "wrong-wrong", CREDS.label)
    with serve(FakeRegistry(auth="bearer")) as reg:
        report = probe(target(reg, creds=wrong))
    assert report.outcome == "failed"
    assert f"the token service {reg.url}/token rejected the credentials of configs[\"x\"]" in report.summary
    assert "wrong-wrong" not in everything(report)


def test_a_bearer_registry_gives_anonymous_tokens_without_credentials(tmp_path):
    with serve(FakeRegistry(auth="bearer", manifests={f"{REPO}:{REF}"})) as reg:
        report = probe(target(reg))
    assert report.outcome == "ok", words(report)
    assert "(GET, no credentials" in words(report)
    assert not any(s.method == "POST" for s in reg.seen), "no OAuth POST without a secret, as containerd"


def test_a_wrong_ca_is_a_tls_failure_that_names_the_certificate_and_its_issuer(tmp_path, server_cert):
    other = make_ca("some-other-ca")
    tls = TLSMaterial(ca_pem=other.pem, ca_label="the CA Cert Bundle of registry.probe.test")
    with serve(FakeRegistry(auth="basic"), cert=server_cert, workdir=tmp_path) as reg:
        report = probe(target(reg, creds=CREDS, tls=tls))
    assert report.outcome == "failed"
    tls_step = report.steps[-1]
    assert tls_step.what == "tls" and tls_step.outcome == "failed"
    assert "subject CN=registry.probe.test, issued by CN=probe-test-ca" in tls_step.text
    assert ("its issuer (CN=probe-test-ca) is not among the trusted CAs: the system CAs and the CA Cert Bundle "
            "of registry.probe.test") in tls_step.text
    assert "[OpenSSL: unable to get local issuer certificate]" in tls_step.text
    assert not any(s.authorization for s in reg.seen), "no credentials went to an untrusted server"


def test_an_expired_certificate_says_it_has_expired(tmp_path, ca):
    with serve(FakeRegistry(), cert=issue(ca, "old.probe.test", expired=True), workdir=tmp_path) as reg:
        report = probe(target(reg, tls=TLSMaterial(ca_pem=ca.pem, ca_label="the CA")))
    assert "it has expired (valid until" in report.summary and "CN=old.probe.test" in report.summary


def test_a_certificate_for_another_name_says_which_names_it_is_for(tmp_path, ca):
    cert = issue(ca, "elsewhere.probe.test", ips=("127.0.0.1",), dns=("elsewhere.probe.test",))
    with serve(FakeRegistry(), cert=cert, workdir=tmp_path) as reg:
        root = reg.url.replace("127.0.0.1", "localhost") + "/v2"
        report = probe(target(reg, roots=[root], tls=TLSMaterial(ca_pem=ca.pem, ca_label="the CA")))
    assert "it is not valid for the name localhost: it is for DNS elsewhere.probe.test, IP 127.0.0.1" in report.summary


def test_a_self_signed_certificate_and_no_ca_says_so(tmp_path, server_cert):
    self_signed = make_ca("lonely.probe.test")
    cert = issue(self_signed, "lonely.probe.test")
    with serve(FakeRegistry(), cert=cert, workdir=tmp_path) as reg:
        report = probe(target(reg))
    assert "the system CAs (no CA is configured for this host)" in report.summary


def test_skip_verify_accepts_an_untrusted_certificate_and_says_it_was_not_verified(tmp_path, server_cert):
    with serve(FakeRegistry(manifests={f"{REPO}:{REF}"}), cert=server_cert, workdir=tmp_path) as reg:
        report = probe(target(reg, tls=TLSMaterial(skip_verify=True)))
    assert report.outcome == "ok"
    assert "not verified: insecure_skip_verify is set" in words(report)


def test_a_client_certificate_is_sent_when_the_registry_asks_and_none_is_said_otherwise(tmp_path, ca, server_cert):
    client_ca = make_ca("client-ca")
    cert, key = issue(client_ca, "node-client", client=True, ips=(), dns=())
    with_client = TLSMaterial(ca_pem=ca.pem, ca_label="the CA", client_cert_pem=cert, client_key_pem=key,
                              client_label="secret node-client")
    with serve(FakeRegistry(), cert=server_cert, client_ca=client_ca, workdir=tmp_path) as reg:
        good = probe(target(reg, image=False, tls=with_client))
        none = probe(target(reg, image=False, tls=TLSMaterial(ca_pem=ca.pem, ca_label="the CA")))
    assert good.outcome == "ok", words(good)
    assert "sent the client certificate of secret node-client" in words(good)
    assert none.outcome == "failed"
    # The alert "certificate required", or (racing with it) the connection closed: both say why.
    assert "client certificate" in none.summary and "none is configured for this host" in none.summary
    assert "PRIVATE KEY" not in everything(good)


def test_a_client_key_that_does_not_match_its_certificate_is_said_before_connecting(tmp_path, ca, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cert, _ = issue(ca, "a", client=True)
    _, other_key = issue(ca, "b", client=True)
    tls = TLSMaterial(client_cert_pem=cert, client_key_pem=other_key, client_label="secret mixed-up")
    report = probe(Target("x", ("https://127.0.0.1:9/v2",), tls=tls))
    assert "the client key does not match the client certificate (secret mixed-up)" in report.summary
    assert list(tmp_path.iterdir()) == [], "the key's private folder is gone"


def test_a_dead_port_says_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the probe: nothing listens there
    report = probe(Target("mirror 1", (f"http://127.0.0.1:{port}/v2",)))
    assert report.outcome == "failed"
    assert report.steps[-1].what == "connect"
    assert f"connection refused by 127.0.0.1:{port}: nothing listens on that port" in report.summary


def test_an_unresolvable_name_is_a_dns_failure():
    report = probe(Target("mirror 1", ("https://no-such-registry.invalid:5000/v2",)))
    assert report.outcome == "failed" and report.steps[-1].what == "dns"
    assert "DNS: the name no-such-registry.invalid does not exist" in report.summary


def test_a_step_does_not_repeat_its_own_label():
    """The page shows each step under its label ("DNS"); the summary, read alone, keeps it."""
    report = probe(Target("mirror 1", ("https://no-such-registry.invalid:5000/v2",)))
    assert report.steps[-1].text.startswith("the name no-such-registry.invalid does not exist")
    assert report.summary.startswith("DNS: ")


def test_a_missing_manifest_is_a_404_after_which_containerd_tries_the_next_endpoint():
    with serve(FakeRegistry(manifests={"team/other:v1"})) as reg:
        report = probe(target(reg))
    assert report.outcome == "missing"
    assert "404, this endpoint does not have team/app at that reference: containerd tries the next endpoint" \
        in words(report)


def test_an_http_host_with_tls_options_is_tried_in_https_first_then_in_http():
    with serve(FakeRegistry(manifests={f"{REPO}:{REF}"})) as reg:
        https = reg.url.replace("http://", "https://") + "/v2"
        report = probe(target(reg, roots=[https, f"{reg.url}/v2"], tls=TLSMaterial(skip_verify=True)))
    assert report.outcome == "ok", words(report)
    assert report.url == f"{reg.url}/v2"
    assert "does not answer in TLS" in report.steps[1].text
    assert report.steps[2].text == f"containerd then tries {reg.url}/v2"


def test_text_a_registry_sends_back_never_carries_the_credentials():
    wrong = Credentials("robot", "echoed-password", CREDS.label)
    with serve(FakeRegistry(auth="basic", echo=True)) as reg:
        report = probe(target(reg, creds=wrong))
    assert "(hidden)" in report.summary
    assert "echoed-password" not in everything(report)
    assert "cm9ib3Q6ZWNob2VkLXBhc3N3b3Jk" not in everything(report), "nor its base64"


def test_a_server_that_never_answers_is_given_up_after_the_request_timeout():
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()
    try:
        start = time.monotonic()
        report = probe(Target("mirror 1", (f"http://127.0.0.1:{listener.getsockname()[1]}/v2",)),
                       Limits(request_timeout=0.5, total=5))
        assert time.monotonic() - start < 3
    finally:
        listener.close()
        for s in held:
            s.close()
    assert report.outcome == "failed" and "no answer within 0.5 s" in report.summary


def test_endpoints_past_the_total_deadline_are_skipped_not_tried():
    reports = probe_all([Target("a", ("http://127.0.0.1:9/v2",)), Target("b", ("http://127.0.0.1:9/v2",))],
                        Limits(total=0))
    assert [r.outcome for r in reports] == ["skipped", "skipped"]
    assert "time limit of 0 s ran out" in reports[0].summary


def test_challenges_with_several_schemes_and_quoted_commas_are_parsed():
    found = parse_challenges(['Bearer realm="https://auth.example/token",service="reg, one",'
                              'scope="repository:a/b:pull,push", Basic realm="x \\"y\\""'])
    assert [(c.scheme, c.params) for c in found] == [
        ("bearer", {"realm": "https://auth.example/token", "service": "reg, one", "scope": "repository:a/b:pull,push"}),
        ("basic", {"realm": 'x "y"'})]
