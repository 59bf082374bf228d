from django.apps import AppConfig


class JumpHostsConfig(AppConfig):
    name = "regui.inventory.jumphosts"
    label = "jumphosts"
    verbose_name = "Jump hosts"
