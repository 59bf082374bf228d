"""The production shape (docker-compose.yml's web service) passes `manage.py check --deploy` with no
warning: HTTPS redirect, secure cookies, HSTS, a trusted proxy; and every page carries a
Content-Security-Policy that allows no inline script and no eval."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


def web_environment(tmp_path: Path) -> dict[str, str]:
    """The web service's variables as compose would pass them (defaults of ${VAR:-default} taken),
    its secret files written to tmp_path; the database an SQLite file (check --deploy opens none)."""
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["environment"]
    files = {"django_secret_key": secrets.token_urlsafe(50), "encryption_keys": Fernet.generate_key().decode(),
             "admin_password": "change-me-admin-password"}
    env = {}
    for name, value in web.items():
        value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))
        if value.startswith("/run/secrets/"):
            secret = tmp_path / value.rsplit("/", 1)[1]
            secret.write_text(files[secret.name] + "\n")
            value = str(secret)
        env[name] = value
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    return env


@pytest.mark.slow  # a manage.py subprocess
def test_check_deploy_is_clean_in_the_compose_shape(tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REGUI_", "DATABASE_URL", "CELERY_", "DJANGO_"))}
    env = {**base, **web_environment(tmp_path), "REGUI_ENV_FILE": "", "REGUI_DATA_DIR": str(tmp_path / "data")}
    r = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout


def test_the_compose_shape_turns_https_on():
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["environment"]
    assert web["REGUI_SECURE_COOKIES"] == web["REGUI_SSL_REDIRECT"] == "true"
    assert int(web["REGUI_HSTS_SECONDS"]) >= 31536000


@pytest.mark.django_db
def test_pages_carry_a_policy_without_inline_script_or_eval(viewer_client):
    for path in ("/login/", "/", "/history/"):
        policy = viewer_client.get(path)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
        assert directives["script-src"] == "'self'", path
        assert "unsafe" not in policy and "frame-ancestors 'none'" in policy


def test_no_template_holds_an_inline_script_or_handler():
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|\son[a-z]+\s*=|hx-on|javascript:", re.I)
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in TEMPLATES.rglob("*.html")
             for m in inline.finditer(p.read_text())]
    assert found == []


def test_htmx_is_told_not_to_eval():
    assert '"allowEval": false' in (TEMPLATES / "base.html").read_text()


@pytest.mark.django_db
def test_with_the_https_redirect_on_the_health_check_still_answers_over_http(settings):
    from django.test import Client

    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/healthz").status_code == 200
    r = client.get("/login/")
    assert r.status_code == 301 and r["Location"].startswith("https://")


@pytest.mark.django_db
def test_the_health_check_answers_whatever_host_it_is_asked_by(settings):
    """The container's health check asks 127.0.0.1:8000, which REGUI_ALLOWED_HOSTS need not hold."""
    from django.test import Client

    settings.ALLOWED_HOSTS = ["regui.example.com"]
    assert Client().get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert Client().get("/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400
