"""explain_pull: the manifest requests containerd makes, in order."""

from __future__ import annotations

from regui.k3s import explain_pull

MIRROR = "mirrors:\n  docker.io:\n    endpoint: [https://m:5000]\nconfigs:\n  m:5000:\n    auth: {username: u}\n"


def test_it_reports_the_normalised_image():
    p = explain_pull(MIRROR, "nginx")
    assert (p.image, p.registry, p.repository, p.reference) == (
        "docker.io/library/nginx:latest", "docker.io", "library/nginx", "latest")


def test_mirror_attempts_carry_the_endpoint_credentials_and_ns():
    p = explain_pull(MIRROR, "nginx:1.27")
    mirror, server = p.attempts
    assert (mirror.role, mirror.host_url, mirror.auth_key) == ("mirror", "https://m:5000/v2", "m:5000")
    assert mirror.urls == ["https://m:5000/v2/library/nginx/manifests/1.27?ns=docker.io"]
    assert (server.role, server.auth_key) == ("server", None)


def test_docker_hub_credentials_under_docker_io_apply_to_registry_1():
    p = explain_pull("configs:\n  docker.io:\n    auth: {username: u}\n", "nginx")
    assert p.attempts[-1].auth_key == "docker.io"


def test_the_wildcard_server_is_the_pulled_registrys_own_endpoint():
    p = explain_pull('mirrors:\n  "*":\n    endpoint: [https://m]\n', "localhost:5000/app")
    assert p.hosts_dir == "_default"
    assert p.attempts[-1].urls == ["http://localhost:5000/v2/app/manifests/latest"]
    assert p.attempts[-1].tls.skip_verify is True


def test_ns_is_query_escaped():
    p = explain_pull('mirrors:\n  "*":\n    endpoint: [https://m]\n', "reg.io:5000/app")
    assert p.attempts[0].urls == ["https://m/v2/app/manifests/latest?ns=reg.io%3A5000"]


def test_a_registry_without_a_directory_uses_the_built_in_default():
    p = explain_pull("", "quay.io/a/b")
    assert p.hosts_dir is None
    assert [a.urls for a in p.attempts] == [["https://quay.io/v2/a/b/manifests/latest"]]


def test_the_embedded_registry_is_tried_first_without_rewrites():
    p = explain_pull("mirrors:\n  docker.io:\n    endpoint: [https://m]\n    rewrite: {'^library/(.*)': 'hub/$1'}\n",
                     "nginx", embedded_registry=True)
    assert p.attempts[0].urls == ["https://127.0.0.1:6443/v2/library/nginx/manifests/latest?ns=docker.io"]
    assert p.attempts[0].rewritten_from is None
    assert p.attempts[1].urls == ["https://m/v2/hub/nginx/manifests/latest?ns=docker.io"]


def test_an_http_host_with_tls_options_is_tried_with_https_first():
    p = explain_pull("mirrors:\n  docker.io:\n    endpoint: [http://m:5000]\nconfigs:\n  m:5000:\n"
                     "    tls: {ca_file: /c}\n", "nginx")
    assert p.attempts[0].https_first is True


def test_an_invalid_image_is_an_error_not_an_exception():
    assert explain_pull("", "Not Valid").error
    assert explain_pull("", None).error


def test_a_refused_file_is_reported_as_the_error():
    p = explain_pull("mirrors: [", "nginx")
    assert p.error.startswith("registries.yaml is refused by k3s: yaml:")
    assert p.attempts == []
