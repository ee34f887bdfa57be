from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "treatments"
    verbose_name = "Treatments and home exercise"

    def ready(self) -> None:
        from .sections import register_sections

        register_sections()
