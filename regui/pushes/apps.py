from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PushesConfig(AppConfig):
    name = "regui.pushes"
    label = "pushes"

    def ready(self) -> None:
        # A worker that starts ends the jobs its predecessor left running; upgrading keeps the nodes that
        # were in sync in sync (upgrade.py), at the end of a migrate.
        from . import signals

        post_migrate.connect(signals.keep_nodes_in_sync, sender=self, dispatch_uid="regui.pushes.upgrade")
