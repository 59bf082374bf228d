"""Loaded with `-p tests.testenv` before Django: fixed test keys, no local env file."""

import os

os.environ["REGUI_ENV_FILE"] = ""
os.environ.setdefault("REGUI_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("REGUI_ENCRYPTION_KEYS", "Ir3ebr4u4C0bI8cKJnlexuI35Bw15DcV_CUMjPVjwQ4=")
