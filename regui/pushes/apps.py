from django.apps import AppConfig


class PushesConfig(AppConfig):
    name = "regui.pushes"
    label = "pushes"
