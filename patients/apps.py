from django.apps import AppConfig


class PatientsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "patients"
    verbose_name = "Patients and assessments"

    def ready(self) -> None:
        from . import sections
        from .selectors import clinical_record_for_request

        def outcomes(request, patient):
            from .charts import outcome_chart

            record = clinical_record_for_request(request, patient)
            return {"outcomes": record.outcomes, "chart": outcome_chart(record.outcomes)}

        def timeline(request, patient):
            record = clinical_record_for_request(request, patient)
            return {
                "assessments": record.assessments,
                "other_reports": [r for r in record.pain_reports if r.assessment_id is None],
            }

        # Clinical sections: shown only to holders of view_assessment (therapists).
        sections.register(
            sections.PatientSection(
                key="outcomes",
                title="Outcomes",
                template="patients/sections/outcomes.html",
                permission="patients.view_assessment",
                load=outcomes,
                order=10,
            )
        )
        sections.register(
            sections.PatientSection(
                key="assessments",
                title="Assessments and pain reports",
                template="patients/sections/assessments.html",
                permission="patients.view_assessment",
                load=timeline,
                order=20,
            )
        )
