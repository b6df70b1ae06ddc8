from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "inference"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the "active_learning" queue ordering (settings.QUEUE_ORDERING).
        from inference.selectors import queue_order  # noqa: F401
