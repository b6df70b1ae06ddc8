from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "measurements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the outlier and disagreement selection scorers (active learning).
        from measurements import selection_scores  # noqa: F401
