from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "regui.inventory.credentials"
    label = "credentials"
