"""The one settings module. Everything comes from environment variables.

`NAME_FILE` may stand in for any secret `NAME` (docker/k8s secrets). For local runs an env file
(`REGUI_ENV_FILE`, default `var/regui.env`, written by `make run`) is read first when it exists.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_env_file = os.environ.get("REGUI_ENV_FILE", str(BASE_DIR / "var" / "regui.env"))
if _env_file and Path(_env_file).is_file():
    environ.Env.read_env(_env_file, overwrite=False)

from regui.core.config import database_url, env, env_secret  # noqa: E402  (after the env file is read)

DATA_DIR = Path(env.str("REGUI_DATA_DIR", default=str(BASE_DIR / "var")))
# Before anything writes there: the folder 0700, what regui writes 0600 (umask), older files fixed.
from regui.core.datadir import secure_data_dir  # noqa: E402

REGUI_DATA_DIR_UNFIXED = secure_data_dir(DATA_DIR)
DEBUG = env.bool("REGUI_DEBUG", default=False)

SECRET_KEY = env_secret("REGUI_SECRET_KEY")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "REGUI_SECRET_KEY is not set. Set it (or REGUI_SECRET_KEY_FILE) to a long random string; "
        "`make run` writes one into var/regui.env."
    )

# The key ring that encrypts secret values at rest: comma-separated Fernet keys, newest first.
# Validated here so that a missing or malformed key stops start-up instead of a request.
from regui.core.crypto import parse_keyring  # noqa: E402

REGUI_ENCRYPTION_KEYS = parse_keyring(env_secret("REGUI_ENCRYPTION_KEYS"))

ALLOWED_HOSTS = env.list("REGUI_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
if not ALLOWED_HOSTS and not DEBUG:
    # Django would start, and answer every request 400 (its container's health check too).
    raise ImproperlyConfigured("REGUI_ALLOWED_HOSTS is empty: every request would be refused (400). Set it to the "
                               "host names regui is reached by, comma-separated (e.g. regui.example.com,localhost).")
CSRF_TRUSTED_ORIGINS = env.list("REGUI_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_celery_results",
    "regui.core.apps.CoreConfig",
    "regui.registries.apps.RegistriesConfig",
    "regui.inventory.apps.InventoryConfig",
    "regui.inventory.credentials.apps.CredentialsConfig",
    "regui.inventory.jumphosts.apps.JumpHostsConfig",
    "regui.pushes.apps.PushesConfig",
    "regui.probes.apps.ProbesConfig",
    "regui.nodechecks.apps.NodeChecksConfig",
    "regui.audit.apps.AuditConfig",
]

MIDDLEWARE = [
    "regui.core.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Size, then login, then CSRF (which reads the form for its token): a request that is too big,
    # or anonymous where a login is needed, is refused before its body is read.
    "regui.core.middleware.BodyLimitMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "regui.core.middleware.RoleRequiredMiddleware",
    "regui.audit.context.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "regui.core.middleware.KeyringErrorMiddleware",
]

ROOT_URLCONF = "regui.urls"
WSGI_APPLICATION = "regui.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "regui.core.roles.role_context",
            ],
        },
    },
]

DATABASES = {"default": database_url(f"sqlite:///{DATA_DIR / 'regui.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the Celery worker write to one file; wait for the lock instead of failing.
    # WAL lets the worker's push threads and the web server write without taking turns on a
    # whole-file lock; IMMEDIATE takes the write lock up front instead of failing mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    })
    # Tests run a real Celery worker in another process: the test database must be a file it can open.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
# Reused connections: on PostgreSQL each new one forks a server process, which a push's first
# milliseconds and every page would otherwise pay for. Checked before reuse.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("REGUI_DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's four, with 12 characters at least.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cluster-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("REGUI_TIME_ZONE", default="UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A session lasts a working day; a deactivated account's or a changed password's sessions end at once.
SESSION_COOKIE_AGE = int(env.float("REGUI_SESSION_HOURS", default=9) * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("REGUI_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True  # pages hand htmx the token themselves; no script needs the cookie
X_FRAME_OPTIONS = "DENY"
# HTTPS, for a deployment behind a TLS proxy (docker-compose.yml sets these).
SECURE_SSL_REDIRECT = env.bool("REGUI_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container's own health check speaks plain HTTP
SECURE_HSTS_SECONDS = env.int("REGUI_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("REGUI_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("REGUI_HSTS_PRELOAD", default=False)
# Asking browsers to preload HSTS for a domain is its owner's decision, not a default to warn about.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Scripts only from regui's own static files: no inline script, no eval (htmx is told not to).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000
# No request body is larger than this (413, unread); an anonymous one, only a login form. A
# reverse proxy in front should refuse bigger bodies itself (nginx: client_max_body_size 4m).
REGUI_MAX_REQUEST_BYTES = env.int("REGUI_MAX_REQUEST_BYTES", default=4 * 1024 * 1024)
REGUI_MAX_ANONYMOUS_REQUEST_BYTES = 16 * 1024
# Uploads up to that size stay in memory: none is ever spooled to a temporary file.
FILE_UPLOAD_MAX_MEMORY_SIZE = REGUI_MAX_REQUEST_BYTES
# And Django reads any form body that limit lets through: its CSRF check reads the form before the
# view, and at its default (2.5 MB) a bigger paste got a bare 400 naming this setting, not the
# view's own refusal (an import too large to read, the form's size).
DATA_UPLOAD_MAX_MEMORY_SIZE = REGUI_MAX_REQUEST_BYTES

# Logins: REGUI_LOGIN_FAILURES failures within REGUI_LOGIN_LOCK_MINUTES, for one username or from one
# address, refuse that username or address for REGUI_LOGIN_LOCK_MINUTES (regui/audit/logins.py).
REGUI_LOGIN_FAILURES = env.int("REGUI_LOGIN_FAILURES", default=5)
REGUI_LOGIN_LOCK_MINUTES = env.float("REGUI_LOGIN_LOCK_MINUTES", default=15.0)
# How many reverse proxies in front of regui append to X-Forwarded-For (0: clients connect directly).
# The client address is the one the outermost of them appended; anything to its left is the client's
# own claim. REGUI_TRUST_X_FORWARDED_FOR=true from older versions means one proxy.
REGUI_TRUSTED_PROXIES = env.int("REGUI_TRUSTED_PROXIES",
                                default=1 if env.bool("REGUI_TRUST_X_FORWARDED_FOR", default=False) else 0)
if REGUI_TRUSTED_PROXIES:
    # The proxy says whether the client's connection was HTTPS (it must set, not pass on, this header).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Celery: with no broker configured, a filesystem queue under DATA_DIR needs no server. It is
# regui's own transport (regui/core/broker.py): kombu's loses tasks and kills the worker when a
# message is read while it is being written.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT = "regui.core.broker:Transport"
    _queue = DATA_DIR / "celery"
    for _sub in ("queue", "tmp", "claimed", "control"):
        (_queue / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "queue"),
        "data_folder_out": str(_queue / "queue"),
        "tmp_folder": str(_queue / "tmp"),
        "claimed_folder": str(_queue / "claimed"),
        "bad_folder": str(_queue / "bad"),
        "control_folder": str(_queue / "control"),
        # Listing a local directory is cheap; a push should not wait a tenth of a second to start.
        "polling_interval": 0.01,
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")
# Installs sharing one Redis each need their own queue, or one's worker takes the other's tasks
# and writes their results to the wrong database.
CELERY_TASK_DEFAULT_QUEUE = env.str("REGUI_CELERY_QUEUE", default="celery")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Celery's Django fixup closes the database connections before and after every task unless told to
# reuse them this many times: effectively always, as regui/celery.py applies CONN_MAX_AGE between tasks.
CELERY_DB_REUSE_MAX = 10**9
# A worker writes a heartbeat every REGUI_WORKER_BEAT seconds; pages waiting on a job say "no worker
# is answering" once none has for REGUI_WORKER_WAIT seconds (and the job has waited that long).
REGUI_WORKER_BEAT = env.float("REGUI_WORKER_BEAT", default=5.0)
REGUI_WORKER_WAIT = env.float("REGUI_WORKER_WAIT", default=30.0)

# Pushes over SSH.
REGUI_SSH_CONNECT_TIMEOUT = env.float("REGUI_SSH_CONNECT_TIMEOUT", default=10.0)
REGUI_SSH_RETRIES = env.int("REGUI_SSH_RETRIES", default=3)  # connection errors only
REGUI_SSH_BACKOFF = env.float("REGUI_SSH_BACKOFF", default=1.0)  # seconds, doubled per retry
# Logins to one jump host in progress at once, per worker machine: each node connection logs in to it,
# and a stock sshd drops unauthenticated connections at random beyond 10 (MaxStartups 10:30:100).
# The worker's processes count them together in files under DATA_DIR (regui/remote/places.py).
REGUI_JUMP_HANDSHAKES = max(1, env.int("REGUI_JUMP_HANDSHAKES", default=8))
REGUI_JUMP_PLACES_DIR = DATA_DIR / "locks" / "jump"
REGUI_SSH_COMMAND_TIMEOUT = env.float("REGUI_SSH_COMMAND_TIMEOUT", default=120.0)
REGUI_RESTART_WAIT = env.int("REGUI_RESTART_WAIT", default=60)  # for `systemctl is-active` after a restart
REGUI_PUSH_CONCURRENCY = env.int("REGUI_PUSH_CONCURRENCY", default=10)  # agents at once, unless a cluster says
# A job's step (a server, or a batch of agents) goes to the workers in chunks (tasks) of at most this many
# nodes. Smaller spreads a batch over more workers; each task costs a render, a claim and its own database
# writes (bench/push.py: 30 nodes as two chunks of 15 on one 2-process worker took 0.56 s against 0.44 s as one).
REGUI_PUSH_CHUNK = env.int("REGUI_PUSH_CHUNK", default=50)
# The Ready gate: how long a restarted node may take to be Ready in Kubernetes, and how often to ask.
REGUI_READY_WAIT = env.float("REGUI_READY_WAIT", default=120.0)
REGUI_READY_POLL = env.float("REGUI_READY_POLL", default=2.0)
REGUI_NODE_LOCK_WAIT = env.float("REGUI_NODE_LOCK_WAIT", default=600.0)
REGUI_NODE_LOCK_STALE = env.float("REGUI_NODE_LOCK_STALE", default=900.0)
# After a push restarted a node, read back the hosts.toml files K3s wrote (regui/nodechecks).
REGUI_READBACK_AFTER_PUSH = env.bool("REGUI_READBACK_AFTER_PUSH", default=True)
# How long a node's "Test a pull" may take (the pull command is stopped then).
REGUI_PULL_TEST_TIMEOUT = env.int("REGUI_PULL_TEST_TIMEOUT", default=300)
# Registry tests from the worker (regui/probes): seconds for each DNS lookup, connection and request,
# and for a whole test (the endpoints not reached by then are said to be skipped).
REGUI_REGISTRY_TEST_TIMEOUT = env.float("REGUI_REGISTRY_TEST_TIMEOUT", default=10.0)
REGUI_REGISTRY_TEST_DEADLINE = env.float("REGUI_REGISTRY_TEST_DEADLINE", default=60.0)
# Retention: the newest registry tests kept per cluster (one still running always stays), and the days
# a user's unsaved edits of a Registries page are kept after their last change. 0 keeps them all.
REGUI_REGISTRY_TESTS_KEPT = env.int("REGUI_REGISTRY_TESTS_KEPT", default=50)
REGUI_UNSAVED_DAYS = env.int("REGUI_UNSAVED_DAYS", default=30)
# Who may approve a node's host key: "admin" (only admins), or "two-person" (also an operator who
# did not add the node or set its address, port or SSH user). Nothing connects without one.
REGUI_HOST_KEY_APPROVAL = env.str("REGUI_HOST_KEY_APPROVAL", default="admin")
if REGUI_HOST_KEY_APPROVAL not in ("admin", "two-person"):
    raise ImproperlyConfigured(f"REGUI_HOST_KEY_APPROVAL must be admin or two-person, not {REGUI_HOST_KEY_APPROVAL!r}.")

# Audit history.
REGUI_HISTORY_DAYS = env.int("REGUI_HISTORY_DAYS", default=90)  # prune_history default; 0 keeps all
CELERY_BEAT_SCHEDULE = {
    "prune-history": {"task": "regui.prune_history", "schedule": 24 * 60 * 60},
    # Starts the clusters' due drift checks (each cluster's interval; off by default) and notifies.
    "drift-watch": {"task": "regui.drift_watch_tick", "schedule": 60},
    # Jobs whose worker stopped mid-job end as interrupted (each worker also checks when it starts).
    "recover-push-jobs": {"task": "regui.push_jobs_recover", "schedule": REGUI_WORKER_WAIT},
}
REGUI_DRIFT_WEBHOOK_TIMEOUT = env.float("REGUI_DRIFT_WEBHOOK_TIMEOUT", default=5.0)
REGUI_DRIFT_WEBHOOK_RETRIES = env.int("REGUI_DRIFT_WEBHOOK_RETRIES", default=2)
# Of the drift watch's checks that found nothing new, the newest this many per cluster are kept.
REGUI_DRIFT_WATCH_KEEP_QUIET = env.int("REGUI_DRIFT_WATCH_KEEP_QUIET", default=10)
# Refused here, not at the first change: a timeout of 0 or less fails (or breaks) every webhook, and a
# negative number kept breaks every collection of the watch.
for _name, _value, _least in (("REGUI_DRIFT_WEBHOOK_TIMEOUT", REGUI_DRIFT_WEBHOOK_TIMEOUT, 0.001),
                              ("REGUI_DRIFT_WEBHOOK_RETRIES", REGUI_DRIFT_WEBHOOK_RETRIES, 0),
                              ("REGUI_DRIFT_WATCH_KEEP_QUIET", REGUI_DRIFT_WATCH_KEEP_QUIET, 0)):
    if _value < _least:
        raise ImproperlyConfigured(f"{_name} must be {'more than 0' if _least else '0 or more'}, not {_value}.")
# Drift watch emails go through Django's mail settings.
EMAIL_BACKEND = env.str("REGUI_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="regui@localhost")
# Django waits for a mail server forever by default; the drift watch sends from its periodic task.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # An expected refusal (a 4xx: a viewer sent to an edit page) is one line; a 500 keeps its traceback.
    "filters": {"refusals": {"()": "regui.core.logfilters.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["refusals"]}},
    "root": {"handlers": ["console"], "level": env.str("REGUI_LOG_LEVEL", default="INFO")},
    # paramiko logs every failed handshake as a traceback from its own thread; push results say it better.
    "loggers": {"paramiko": {"level": "CRITICAL"}},
}
