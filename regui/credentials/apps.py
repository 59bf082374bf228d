from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "regui.credentials"
    label = "credentials"
