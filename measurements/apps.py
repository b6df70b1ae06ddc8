from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "measurements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from annotation.services.revisions import revision_hooks_register
        from measurements.events import announce_measurements
        from measurements.services import measurements_store

        def store(revision: object) -> None:
            measurements_store(revision=revision)  # type: ignore[arg-type]

        revision_hooks_register(in_transaction=store, on_commit=announce_measurements)
