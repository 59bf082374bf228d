"""Start-up refuses a missing, malformed or wrong encryption key, with a message that says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

pytestmark = pytest.mark.slow  # manage.py subprocesses

ROOT = Path(__file__).resolve().parents[2]


def manage(tmp_path, *args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REGUI_", "DATABASE_URL", "CELERY_"))}
    base.update({"REGUI_ENV_FILE": "", "REGUI_DATA_DIR": str(tmp_path), "REGUI_SECRET_KEY": "k" * 50})
    base.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True,
                          text=True, timeout=120)


def test_it_refuses_to_start_without_an_encryption_key(tmp_path):
    r = manage(tmp_path, "check")
    assert r.returncode != 0
    assert "REGUI_ENCRYPTION_KEYS is not set" in r.stderr
    assert "Traceback" not in r.stderr


def test_it_refuses_a_malformed_key(tmp_path):
    r = manage(tmp_path, "check", REGUI_ENCRYPTION_KEYS="not-a-key")
    assert r.returncode != 0 and "not a valid Fernet key" in r.stderr
    assert "Traceback" not in r.stderr


def test_it_refuses_a_key_that_cannot_open_stored_secrets_and_rotation_fixes_nothing_silently(tmp_path):
    old, new, stranger = (Fernet.generate_key().decode() for _ in range(3))
    assert manage(tmp_path, "migrate", "-v0", REGUI_ENCRYPTION_KEYS=old).returncode == 0
    yaml_file = tmp_path / "r.yaml"
    yaml_file.write_text('configs:\n  "h.example.com":\n    auth:\n      username: u\n      password: "pw-in-file-99"\n')
    r = manage(tmp_path, "import_registries", str(yaml_file), "--cluster", "prod", REGUI_ENCRYPTION_KEYS=old)
    assert r.returncode == 0, r.stderr

    wrong = manage(tmp_path, "check", REGUI_ENCRYPTION_KEYS=stranger)
    assert wrong.returncode != 0 and "REGUI_ENCRYPTION_KEYS is wrong" in wrong.stderr

    # Rotation: prepend the new key, re-encrypt, then the old key can go.
    rot = manage(tmp_path, "rotate_secret_keys", REGUI_ENCRYPTION_KEYS=f"{new},{old}")
    assert rot.returncode == 0 and "Re-encrypted 1 secret" in rot.stdout
    assert manage(tmp_path, "check", REGUI_ENCRYPTION_KEYS=new).returncode == 0
    out = manage(tmp_path, "export_registries", "--cluster", "prod", REGUI_ENCRYPTION_KEYS=new)
    assert "pw-in-file-99" in out.stdout

    bad_rot = manage(tmp_path, "rotate_secret_keys", REGUI_ENCRYPTION_KEYS=stranger)
    assert bad_rot.returncode != 0 and "nothing was changed" in bad_rot.stderr
    assert "Traceback" not in bad_rot.stderr


def test_no_plaintext_secret_reaches_the_database_file(tmp_path):
    key = Fernet.generate_key().decode()
    assert manage(tmp_path, "migrate", "-v0", REGUI_ENCRYPTION_KEYS=key).returncode == 0
    yaml_file = tmp_path / "r.yaml"
    yaml_file.write_text('configs:\n  "h.example.com":\n    auth:\n      username: u\n      password: "pw-in-file-99"\n'
                         '  "t.example.com":\n    auth:\n      identity_token: "tok-in-file-42"\n')
    assert manage(tmp_path, "import_registries", str(yaml_file), "--cluster", "prod",
                  REGUI_ENCRYPTION_KEYS=key).returncode == 0
    db = (tmp_path / "regui.sqlite3").read_bytes()
    assert b"h.example.com" in db, "the test looks at the right file"
    assert b"pw-in-file-99" not in db and b"tok-in-file-42" not in db


NODE = ("from regui.registries.models import Cluster; from regui.inventory.models import Node; "
        "n = Node(cluster=Cluster.objects.create(name='edge', distro='k3s'), name='n1', address='10.0.0.1', "
        "role='agent', ssh_user='root', credential_kind='password'); n.seal_credential('node-pw-31'); n.save()")
READ_NODE = "from regui.inventory.models import Node; print(Node.objects.get(name='n1').unseal_credential())"


def test_rotation_re_encrypts_node_credentials_too(tmp_path):
    old, new, stranger = (Fernet.generate_key().decode() for _ in range(3))
    assert manage(tmp_path, "migrate", "-v0", REGUI_ENCRYPTION_KEYS=old).returncode == 0
    made = manage(tmp_path, "shell", "-c", NODE, REGUI_ENCRYPTION_KEYS=old)
    assert made.returncode == 0, made.stderr

    wrong = manage(tmp_path, "check", REGUI_ENCRYPTION_KEYS=stranger)
    assert wrong.returncode != 0 and "REGUI_ENCRYPTION_KEYS is wrong" in wrong.stderr, "nodes alone are checked"

    rot = manage(tmp_path, "rotate_secret_keys", REGUI_ENCRYPTION_KEYS=f"{new},{old}")
    assert rot.returncode == 0 and "1 node credential(s)" in rot.stdout, rot.stdout + rot.stderr
    assert manage(tmp_path, "check", REGUI_ENCRYPTION_KEYS=new).returncode == 0
    read = manage(tmp_path, "shell", "-c", READ_NODE, REGUI_ENCRYPTION_KEYS=new)
    assert read.returncode == 0 and read.stdout.strip().splitlines()[-1] == "node-pw-31", read.stderr
    db = (tmp_path / "regui.sqlite3").read_bytes()
    assert b"node-pw-31" not in db
