from django.apps import AppConfig


class NodeChecksConfig(AppConfig):
    name = "regui.nodechecks"
    label = "nodechecks"
    verbose_name = "Node checks"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (after a push job: read back what K3s wrote)
