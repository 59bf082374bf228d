"""A push removes the TLS files regui itself wrote earlier (listed in the manifest of its own TLS
folder) once no config names them, when the service runs the new file; never anything else."""

from __future__ import annotations

import hashlib

import pytest

from regui.registries.importing import registries_import
from regui.registries.models import RegistryConfig
from regui.registries.services import SecretInput, secret_save
from tests.certs import key_and_cert
from tests.fakes.fleet import YAML

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = "/var/lib/rancher/k3s/etc/tls/registries"
OLD = f"{ROOT}/old.example.com"
KEPT = f"{ROOT}/mirror.example.com:5000"
MANIFEST = f"{ROOT}/.regui-manifest"


def with_old_registry(cluster) -> tuple[str, str]:
    """The fleet's registries plus old.example.com with a client key pair and a CA bundle."""
    registries_import(cluster=cluster, text=YAML + '  "old.example.com":\n    tls: {insecure_skip_verify: false}\n',
                      replace=True)
    key, cert = key_and_cert("old.example.com")
    tls = secret_save(data=SecretInput(name="old-client", kind="tls", certificate=cert, private_key=key,
                                       cluster=cluster))
    RegistryConfig.objects.filter(cluster=cluster, hostname="old.example.com").update(tls_secret=tls, ca_bundle=cert)
    RegistryConfig.objects.filter(cluster=cluster, hostname="mirror.example.com:5000").update(ca_bundle=cert)
    return key, cert


def drop_old_registry(cluster) -> None:
    RegistryConfig.objects.filter(cluster=cluster, hostname="old.example.com").delete()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_registry_removed_from_the_config_loses_its_tls_files_at_the_next_push(fleet):
    with_old_registry(fleet.cluster)
    fleet.add("agent")
    node = fleet["a1"]
    assert fleet.push().results.get().status == "changed"
    assert node.listdir(OLD) == ["ca.crt", "tls.crt", "tls.key"]
    drop_old_registry(fleet.cluster)
    r = fleet.push().results.get()
    assert r.status == "changed" and r.restarted, r.message
    assert node.listdir(ROOT) == [".regui-manifest", "mirror.example.com:5000"], "the emptied folder went too"
    assert node.listdir(KEPT) == ["ca.crt"]
    assert r.message.endswith(f"; removed {OLD}/ca.crt, {OLD}/tls.crt, {OLD}/tls.key (written by regui, "
                              "no longer named)")
    assert node.read(MANIFEST) == f"{sha(node.read(f'{KEPT}/ca.crt'))} mirror.example.com:5000/ca.crt\n".encode()
    assert "removed" not in fleet.push().results.get().message, "nothing left to remove"


def test_a_file_the_config_still_names_by_its_path_is_kept(fleet):
    with_old_registry(fleet.cluster)
    fleet.add("agent")
    node = fleet["a1"]
    fleet.push()
    # The key pair is now named by path (as typed in the form) instead of written from a secret.
    RegistryConfig.objects.filter(cluster=fleet.cluster, hostname="old.example.com").update(
        tls_secret=None, ca_bundle="", cert_file=f"{OLD}/tls.crt", key_file=f"{OLD}/tls.key")
    r = fleet.push().results.get()
    assert r.status == "changed", r.message
    assert node.listdir(OLD) == ["tls.crt", "tls.key"]
    assert r.message.endswith(f"; removed {OLD}/ca.crt (written by regui, no longer named)")
    # Still regui's own files: once nothing names them, they go too.
    drop_old_registry(fleet.cluster)
    assert fleet.push().results.get().message.endswith(
        f"; removed {OLD}/tls.crt, {OLD}/tls.key (written by regui, no longer named)")
    assert node.listdir(OLD) == []


def test_a_write_only_push_leaves_them_until_the_service_has_restarted_with_the_new_file(fleet):
    with_old_registry(fleet.cluster)
    fleet.add("agent")
    node = fleet["a1"]
    fleet.push()
    drop_old_registry(fleet.cluster)
    # The running containerd may still read them until the service restarts with the new file.
    r = fleet.push(restart=False).results.get()
    assert r.status == "changed" and not r.restarted, r.output
    assert node.listdir(OLD) == ["ca.crt", "tls.crt", "tls.key"]
    assert r.message.endswith(f"; {OLD}/ca.crt, {OLD}/tls.crt, {OLD}/tls.key no longer named: removed by a push "
                              "once k3s-agent has restarted with the new file")
    assert node.listdir(OLD) == ["ca.crt", "tls.crt", "tls.key"], "still pending: not now either"
    assert fleet.push(restart=False).results.get().status == "unchanged"
    assert node.listdir(OLD) == ["ca.crt", "tls.crt", "tls.key"]
    r = fleet.push().results.get()
    assert r.restarted and "removed" in r.message and node.listdir(OLD) == []


def test_a_file_put_in_regui_s_folder_by_hand_is_kept(fleet):
    with_old_registry(fleet.cluster)
    fleet.add("agent")
    node = fleet["a1"]
    node.write(f"{OLD}/extra.pem", b"mine\n")
    node.write(f"{ROOT}/by-hand.example.com/ca.crt", b"mine too\n")
    fleet.push()
    drop_old_registry(fleet.cluster)
    fleet.push()
    assert node.listdir(OLD) == ["extra.pem"], "the folder stays: it is not empty"
    assert node.read(f"{ROOT}/by-hand.example.com/ca.crt") == b"mine too\n"


def test_a_file_changed_on_the_node_since_regui_wrote_it_is_kept_and_said(fleet):
    with_old_registry(fleet.cluster)
    fleet.add("agent")
    node = fleet["a1"]
    fleet.push()
    node.write(f"{OLD}/ca.crt", b"replaced by hand\n")
    drop_old_registry(fleet.cluster)
    r = fleet.push().results.get()
    assert node.listdir(OLD) == ["ca.crt"] and node.read(f"{OLD}/ca.crt") == b"replaced by hand\n"
    assert f"kept {OLD}/ca.crt: no longer named, but changed on the node since regui wrote it" in r.message
    assert b"old.example.com" not in node.read(MANIFEST), "no longer regui's file"


def test_manifest_entries_pointing_out_of_the_folder_are_ignored(fleet):
    fleet.add("agent")
    node = fleet["a1"]
    fleet.push()
    theirs = b"not regui's\n"
    # Each entry carries the file's true sum: only where it points keeps it from being removed.
    entries = {"/etc/rancher/k3s/secret.key": "../../../../../../../etc/rancher/k3s/secret.key",
               f"{ROOT}/outside.key": "outside.key",  # in the folder itself, not in a registry's
               "/var/lib/rancher/k3s/etc/tls/other/tls.key": "../other/tls.key",
               f"{ROOT}/a/b/deep.key": "a/b/deep.key",
               "/var/lib/rancher/k3s/etc/tls/linked/tls.key": "linked/tls.key",  # through a linked folder
               "/var/lib/rancher/k3s/elsewhere.key": "links/tls.key"}  # a link to a file
    for path in entries:
        node.write(path, theirs)
    node.path(f"{ROOT}/linked").symlink_to(node.path("/var/lib/rancher/k3s/etc/tls/linked"))
    node.path(f"{ROOT}/links").mkdir()
    node.path(f"{ROOT}/links/tls.key").symlink_to(node.path("/var/lib/rancher/k3s/elsewhere.key"))
    lines = [f"{sha(theirs)} {rel}" for rel in entries.values()] + [f"{sha(theirs)} /etc/rancher/k3s/secret.key"]
    node.write(MANIFEST, ("\n".join(lines) + "\n").encode())
    r = fleet.push().results.get()
    assert r.status == "unchanged" and "removed" not in r.message, r.message
    for path in entries:
        assert node.read(path) == theirs, path
    assert node.path(f"{ROOT}/links/tls.key").is_symlink()


@pytest.mark.e2e
def test_a_real_node_loses_the_tls_files_of_a_removed_registry_and_keeps_its_own(stack, nodes):
    with_old_registry(stack.cluster)
    h = nodes(1)
    stack.add(h)
    hn = h.nodes[0]
    assert stack.push().results.get().status == "changed"
    assert hn.listdir(OLD) == ["ca.crt", "tls.crt", "tls.key"]
    hn.write(f"{OLD}/extra.pem", b"mine\n", 0o600, 0, 0)
    hn.write("/var/lib/rancher/k3s/etc/tls/outside.key", b"mine\n", 0o600, 0, 0)
    manifest = hn.read(MANIFEST).decode()
    hn.write(MANIFEST, (manifest + f"{sha(b'mine' + bytes([10]))} ../outside.key\n").encode(), 0o600, 0, 0)
    drop_old_registry(stack.cluster)
    r = stack.push().results.get()
    assert r.status == "changed" and r.restarted, r.message
    assert r.message.endswith(f"; removed {OLD}/ca.crt, {OLD}/tls.crt, {OLD}/tls.key (written by regui, "
                              "no longer named)")
    assert hn.listdir(OLD) == ["extra.pem"] and hn.listdir(KEPT) == ["ca.crt"]
    assert hn.read("/var/lib/rancher/k3s/etc/tls/outside.key") == b"mine\n"
    assert hn.stat(MANIFEST).mode & 0o777 == 0o600
