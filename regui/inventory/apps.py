from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "regui.inventory"
    label = "inventory"
