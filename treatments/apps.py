from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "treatments"
    verbose_name = "Treatments and home exercise"

    def ready(self) -> None:
        from patients.sections import patient_page, today_page

        from . import sections

        patient_page.register(*sections.PATIENT_SECTIONS)
        today_page.register(*sections.TODAY_SECTIONS)
