from django.apps import AppConfig


class RegistriesConfig(AppConfig):
    name = "regui.registries"
    label = "registries"
