from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "measurements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from annotation.services.revisions import revision_hooks_register
        from measurements.services import measurements_on_save

        revision_hooks_register(in_transaction=measurements_on_save)
