from django.apps import AppConfig


class PacsConfig(AppConfig):
    name = "pacs"
    default_auto_field = "django.db.models.BigAutoField"
