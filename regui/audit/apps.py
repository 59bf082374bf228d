from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "regui.audit"
    label = "audit"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (logins, logouts, failed logins)
