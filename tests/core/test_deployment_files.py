"""The deployment files a new user meets: docker-compose.yml and the pinned requirements."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import require_binary

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # Debian's docker-compose, a system package
def test_docker_compose_accepts_the_file():
    compose = require_binary("docker-compose")
    r = subprocess.run([compose, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], capture_output=True,
                       text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def test_compose_runs_web_worker_postgres_and_redis_with_secrets_from_files():
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"web", "worker", "postgres", "redis"} <= set(data["services"])
    web = data["services"]["web"]
    assert web["environment"]["REGUI_ENCRYPTION_KEYS_FILE"].startswith("/run/secrets/")
    assert "gunicorn" in (ROOT / "Dockerfile").read_text()
    assert data["services"]["worker"]["command"][:3] == ["celery", "-A", "regui"]


def test_requirements_pin_exact_versions():
    lines = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][^\s]*", ln) for ln in lines), lines
    names = {ln.split("==")[0].lower() for ln in lines}
    assert {"django", "pyyaml", "django-htmx", "celery", "paramiko"} <= names


def _gunicorn_options(text: str) -> set[str]:
    command = text[text.index("gunicorn regui.wsgi:application"):]
    return set(re.findall(r"(--[a-z-]+)", command.split("\n\n")[0].split("&\n")[0])) - {"--bind"}


def test_the_image_serves_as_bin_run_does_sized_and_timed_by_the_same_variables():
    run = (ROOT / "bin" / "run").read_text()
    image = (ROOT / "Dockerfile").read_text()
    assert _gunicorn_options(image) == _gunicorn_options(run)
    for variable in ("REGUI_WEB_WORKERS", "REGUI_WEB_THREADS", "REGUI_REQUEST_TIMEOUT"):
        assert variable in run and variable in image


def test_the_worker_logs_at_regui_log_level_in_bin_run_and_in_compose():
    assert '--loglevel="${REGUI_LOG_LEVEL:-INFO}"' in (ROOT / "bin" / "run").read_text()
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("worker", "beat"):
        assert "--loglevel=${REGUI_LOG_LEVEL:-INFO}" in services[name]["command"]
    for name in ("web", "worker", "beat"):
        assert services[name]["environment"]["REGUI_LOG_LEVEL"] == "${REGUI_LOG_LEVEL:-INFO}"


def test_the_worker_and_beat_start_once_the_web_service_has_migrated_the_database():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"] == {"condition": "service_healthy"}
