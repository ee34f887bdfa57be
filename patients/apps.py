from django.apps import AppConfig


class PatientsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "patients"
    verbose_name = "Patients and assessments"

    def ready(self) -> None:
        from . import sections

        sections.patient_page.register(*sections.PATIENT_SECTIONS)
        sections.today_page.register(*sections.TODAY_SECTIONS)
