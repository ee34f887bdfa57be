"""factory_boy factories for every model the suite builds."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from clinic import models as clinic_models
from clinic.roles import CLINIC_MANAGER, FRONT_DESK, THERAPIST
from patients import models as patient_models
from patients.clinical import normalise_name
from treatments import models as treatment_models

User = get_user_model()

PASSWORD = "correct-horse-battery-staple"


def _with_role(role_name: str):
    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create:
            user.groups.add(Group.objects.get(name=extracted or role_name))

    return role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(PASSWORD)


class TherapistFactory(UserFactory):
    username = factory.Sequence(lambda n: f"therapist{n}")
    role = _with_role(THERAPIST)

    @factory.post_generation
    def practitioner(self, create, extracted, **kwargs):
        if create:
            clinic_models.Practitioner.objects.get_or_create(
                user=self, defaults={"display_name": self.get_full_name() or self.username}
            )


class FrontDeskFactory(UserFactory):
    username = factory.Sequence(lambda n: f"frontdesk{n}")
    role = _with_role(FRONT_DESK)


class ManagerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"manager{n}")
    role = _with_role(CLINIC_MANAGER)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = patient_models.Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=18, maximum_age=80)
    email = factory.LazyAttributeSequence(
        lambda p, n: f"{p.first_name.lower()}.{p.last_name.lower()}{n}@example.com"
    )
    phone = factory.Sequence(lambda n: f"+1555{n:07d}")
    preferred_language = "en"
    timezone = "America/New_York"
    reminders_opt_in = True
    # The same normaliser as patients.services, so search finds factory patients too.
    search_name = factory.LazyAttribute(lambda p: normalise_name(f"{p.first_name} {p.last_name}"))


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = patient_models.Assessment

    patient = factory.SubFactory(PatientFactory)
    therapist = factory.SubFactory(TherapistFactory)
    assessed_at = factory.LazyFunction(timezone.now)
    kind = patient_models.AssessmentKind.INITIAL
    region = patient_models.Region.KNEE
    side = patient_models.Side.RIGHT
    pain_now = 5
    pain_worst = 7
    pain_best = 2
    pain_qualities = factory.LazyFunction(lambda: ["dull_ache"])
    suspected_causes = factory.LazyFunction(lambda: ["arthritis"])
    precautions = factory.LazyFunction(list)
    clinical_impression = "Knee pain consistent with early osteoarthritis."


class PainReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = patient_models.PainReport

    patient = factory.SubFactory(PatientFactory)
    score = 4
    reported_at = factory.LazyFunction(timezone.now)
    source = patient_models.PainSource.EMAIL_LINK


class TechniqueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = treatment_models.Technique
        django_get_or_create = ["code"]

    code = treatment_models.TechniqueCode.JOINT_MOBILIZATION
    name = "Joint mobilization"
    description = "Rhythmic, repeated movement of a stiff joint."
    allowed_grades = factory.LazyFunction(lambda: ["I", "II", "III", "IV"])


class ExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = treatment_models.Exercise
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"exercise-{n}")
    name = factory.Sequence(lambda n: f"Exercise {n}")
    name_es = factory.Sequence(lambda n: f"Ejercicio {n}")
    instructions_en = "Stand tall. Move slowly."
    instructions_es = "Póngase de pie. Muévase despacio."
    default_sets = 2
    default_reps = 10


class TreatmentPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = treatment_models.TreatmentPlan

    assessment = factory.SubFactory(AssessmentFactory)
    patient = factory.SelfAttribute("assessment.patient")
    therapist = factory.SelfAttribute("assessment.therapist")
    goals = "Walk a mile without pain."
    visits_per_week = 2
    weeks = 6
    start_date = factory.LazyFunction(lambda: timezone.localdate())


class HomeExerciseProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = treatment_models.HomeExerciseProgram

    patient = factory.SubFactory(PatientFactory)
    prescribed_by = factory.SubFactory(TherapistFactory)
    start_date = factory.LazyFunction(lambda: timezone.localdate())
    reminder_time = dt.time(18, 0)


class ExercisePrescriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = treatment_models.ExercisePrescription

    program = factory.SubFactory(HomeExerciseProgramFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    sets = 2
    reps = 10
    position = factory.Sequence(lambda n: n)


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = clinic_models.Practitioner
        django_get_or_create = ["user"]

    user = factory.SubFactory(TherapistFactory)
    display_name = factory.LazyAttribute(lambda p: p.user.get_full_name() or p.user.username)


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = clinic_models.Room
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Room {n}")


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = clinic_models.Appointment

    patient = factory.SubFactory(PatientFactory)
    practitioner = factory.SubFactory(PractitionerFactory)
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda a: a.starts_at + dt.timedelta(minutes=30))
    kind = clinic_models.AppointmentKind.FOLLOW_UP
    created_by = factory.SubFactory(FrontDeskFactory)


class ExerciseCompletionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = treatment_models.ExerciseCompletion

    program = factory.SubFactory(HomeExerciseProgramFactory)
    date = factory.LazyFunction(lambda: timezone.localdate())
    source = treatment_models.CompletionSource.EMAIL_LINK


class VisitNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = treatment_models.VisitNote

    patient = factory.SubFactory(PatientFactory)
    therapist = factory.SubFactory(TherapistFactory)
    visited_at = factory.LazyFunction(timezone.now)
    subjective = "Knee feels easier on stairs."
