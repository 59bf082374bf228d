from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "regui.core"
    label = "core"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401  (registers the key-ring check)
            heartbeat,  # noqa: F401  (a worker's heartbeat: pages tell a dead worker by it)
        )
