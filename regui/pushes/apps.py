from django.apps import AppConfig


class PushesConfig(AppConfig):
    name = "regui.pushes"
    label = "pushes"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (a worker that starts ends the jobs its predecessor left running)
