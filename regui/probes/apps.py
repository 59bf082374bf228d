from django.apps import AppConfig


class ProbesConfig(AppConfig):
    name = "regui.probes"
    label = "probes"
    verbose_name = "registry tests"
