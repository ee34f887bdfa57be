"""Demo patients with knee and ankle presentations and assessment histories.

Called from ``seed_demo`` (clinic/management/commands/seed_demo.py). Deterministic
(a seeded random.Random) and idempotent: a demo patient already registered (same demo
email address) is left alone, so running it twice creates nothing twice.
Everything is written through the services, so the demo audit log looks like real use.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from . import clinical, localtime, services
from .models import PainSource, Patient

SEED = 20260401


@dataclass(frozen=True)
class DemoCase:
    first: str
    last: str
    age: int
    language: str
    region: str
    side: str
    causes: tuple[str, ...]
    mechanism: str
    qualities: tuple[str, ...]
    aggravating: str
    impression: str
    course: str = "improving"  # improving | slow | not_improving
    precautions: tuple[str, ...] = ()
    ottawa: str = ""  # "" not examined, "negative", "ankle_positive"
    reminders: bool = True


CASES: tuple[DemoCase, ...] = (
    DemoCase(
        "José",
        "García",
        58,
        "es",
        "knee",
        "right",
        ("arthritis",),
        "gradual",
        ("dull_ache", "stiffness"),
        "Stairs, getting up from a chair",
        "Medial compartment knee OA; morning stiffness under 30 min.",
        "improving",
    ),
    DemoCase(
        "María",
        "Hernández",
        44,
        "es",
        "ankle",
        "left",
        ("fracture",),
        "injury",
        ("sharp", "throbbing"),
        "Any weight bearing",
        "Inversion injury yesterday; lateral malleolus bone tenderness. Refer for x-ray.",
        "improving",
        ("fracture",),
        "ankle_positive",
    ),
    DemoCase(
        "Emily",
        "Carter",
        27,
        "en",
        "knee_and_ankle",
        "right",
        ("muscle_weakness",),
        "gradual",
        ("dull_ache", "intermittent"),
        "Running downhill, squatting",
        "Weak hip abductors with dynamic knee valgus; reduced ankle dorsiflexion.",
        "improving",
        ottawa="negative",
    ),
    DemoCase(
        "Daniel",
        "Brooks",
        35,
        "en",
        "knee",
        "left",
        ("tendinitis",),
        "gradual",
        ("sharp", "intermittent"),
        "Jumping, stairs",
        "Patellar tendinopathy.",
        "improving",
    ),
    DemoCase(
        "Lucía",
        "Martínez",
        22,
        "es",
        "ankle",
        "bilateral",
        ("shin_splints",),
        "gradual",
        ("dull_ache", "throbbing"),
        "Running on pavement",
        "Medial tibial stress syndrome after a sudden increase in mileage.",
        "improving",
    ),
    DemoCase(
        "Robert",
        "Nguyen",
        61,
        "en",
        "knee",
        "right",
        ("nerve_compression",),
        "gradual",
        ("shooting", "intermittent"),
        "Prolonged sitting, bending",
        "Radiating pain to the lateral knee; screen lumbar spine.",
        "not_improving",
        ("neuro_deficit",),
    ),
    DemoCase(
        "Ana",
        "López",
        49,
        "es",
        "ankle",
        "right",
        ("plantar_fasciitis",),
        "gradual",
        ("sharp", "intermittent"),
        "First steps in the morning",
        "Plantar heel pain; tight calf complex.",
        "improving",
    ),
    DemoCase(
        "Michael",
        "O'Brien",
        66,
        "en",
        "knee",
        "bilateral",
        ("arthritis",),
        "gradual",
        ("dull_ache", "constant", "stiffness"),
        "Walking more than 15 minutes",
        "Bilateral knee OA; on anticoagulants.",
        "slow",
        ("anticoagulation",),
    ),
    DemoCase(
        "Sofía",
        "Ramírez",
        31,
        "es",
        "knee",
        "left",
        ("muscle_weakness", "other"),
        "post_surgery",
        ("stiffness", "dull_ache"),
        "Kneeling, stairs",
        "Eight weeks after ACL reconstruction; quadriceps lag.",
        "improving",
        ("instability",),
    ),
    DemoCase(
        "Hannah",
        "Schmidt",
        39,
        "en",
        "ankle",
        "left",
        ("tendinitis",),
        "gradual",
        ("dull_ache", "stiffness"),
        "Calf raises, hills",
        "Mid-portion Achilles tendinopathy.",
        "improving",
    ),
    DemoCase(
        "Carlos",
        "Rodríguez",
        53,
        "es",
        "knee_and_ankle",
        "right",
        ("arthritis",),
        "gradual",
        ("dull_ache", "throbbing"),
        "Standing at work",
        "Knee OA with compensatory ankle stiffness; active inflammatory flare last year.",
        "not_improving",
        ("inflammatory_arthritis",),
    ),
    DemoCase(
        "Olivia",
        "Bennett",
        19,
        "en",
        "ankle",
        "bilateral",
        ("shin_splints",),
        "gradual",
        ("dull_ache",),
        "Track sessions",
        "Shin splints; flat-foot posture.",
        "improving",
    ),
    DemoCase(
        "James",
        "Whitaker",
        45,
        "en",
        "ankle",
        "right",
        ("plantar_fasciitis",),
        "gradual",
        ("sharp",),
        "Standing all day",
        "Plantar fasciitis; new shoes needed.",
        "slow",
    ),
    DemoCase(
        "Valentina",
        "Torres",
        28,
        "es",
        "knee",
        "right",
        ("tendinitis",),
        "injury",
        ("sharp", "intermittent"),
        "Cycling uphill",
        "Iliotibial band irritation.",
        "improving",
        ottawa="negative",
    ),
    DemoCase(
        "William",
        "Foster",
        72,
        "en",
        "knee",
        "left",
        ("arthritis",),
        "gradual",
        ("stiffness", "dull_ache"),
        "Getting out of the car",
        "Advanced knee OA; severe osteoporosis on DEXA.",
        "slow",
        ("osteoporosis",),
    ),
    DemoCase(
        "Grace",
        "Kim",
        33,
        "en",
        "knee",
        "right",
        ("muscle_weakness",),
        "gradual",
        ("dull_ache",),
        "Sitting with knees bent",
        "Patellofemoral pain.",
        "improving",
    ),
    DemoCase(
        "Diego",
        "Flores",
        40,
        "es",
        "ankle",
        "left",
        ("nerve_compression",),
        "gradual",
        ("shooting", "intermittent"),
        "Long drives",
        "Peroneal nerve irritation at the fibular head.",
        "improving",
    ),
    DemoCase(
        "Thomas",
        "Wright",
        57,
        "en",
        "knee",
        "right",
        ("arthritis", "muscle_weakness"),
        "gradual",
        ("dull_ache", "stiffness"),
        "Stairs",
        "Knee OA, weak quadriceps.",
        "improving",
    ),
    DemoCase(
        "Isabel",
        "Morales",
        62,
        "es",
        "ankle",
        "right",
        ("arthritis",),
        "gradual",
        ("stiffness", "constant"),
        "Uneven ground",
        "Ankle OA after an old fracture.",
        "not_improving",
    ),
    DemoCase(
        "Ethan",
        "Parker",
        24,
        "en",
        "ankle",
        "right",
        ("muscle_weakness",),
        "injury",
        ("sharp", "intermittent"),
        "Cutting movements in football",
        "Recurrent lateral ankle sprain; poor balance. Ottawa negative.",
        "improving",
        ("instability",),
        "negative",
    ),
    DemoCase(
        "Chloe",
        "Adams",
        37,
        "en",
        "knee_and_ankle",
        "left",
        ("plantar_fasciitis",),
        "gradual",
        ("sharp", "dull_ache"),
        "Walking barefoot",
        "Plantar fasciitis with knee pain from altered gait.",
        "improving",
    ),
    DemoCase(
        "Andrés",
        "Castillo",
        29,
        "es",
        "knee",
        "left",
        ("tendinitis",),
        "gradual",
        ("sharp",),
        "Basketball",
        "Jumper's knee.",
        "improving",
    ),
    DemoCase(
        "Margaret",
        "Hughes",
        68,
        "en",
        "knee",
        "right",
        ("arthritis",),
        "post_surgery",
        ("stiffness",),
        "Bending the knee",
        "Six weeks after total knee replacement.",
        "improving",
    ),
    DemoCase(
        "Samuel",
        "Ortiz",
        51,
        "en",
        "ankle",
        "left",
        ("tendinitis",),
        "gradual",
        ("dull_ache",),
        "Walking uphill",
        "Posterior tibial tendinopathy.",
        "slow",
    ),
    DemoCase(
        "Benjamin",
        "Reed",
        46,
        "en",
        "knee",
        "left",
        ("nerve_compression",),
        "gradual",
        ("shooting",),
        "Bending forward",
        "Referred pain, sciatic irritation.",
        "improving",
    ),
    DemoCase(
        "Natalie",
        "Cooper",
        30,
        "en",
        "ankle",
        "right",
        ("shin_splints",),
        "gradual",
        ("dull_ache", "intermittent"),
        "Dance classes",
        "Medial tibial stress syndrome.",
        "improving",
        reminders=False,
    ),
    DemoCase(
        "Henry",
        "Collins",
        55,
        "en",
        "knee",
        "right",
        ("fracture",),
        "post_surgery",
        ("dull_ache", "stiffness"),
        "Full weight bearing",
        "Healing tibial plateau fracture after fixation.",
        "improving",
        ("fracture",),
    ),
    DemoCase(
        "Laura",
        "Jiménez",
        42,
        "en",
        "knee",
        "bilateral",
        ("muscle_weakness",),
        "gradual",
        ("dull_ache",),
        "Squatting at work",
        "Muscle imbalance; long hours standing.",
        "improving",
        reminders=False,
    ),
    DemoCase(
        "Ryan",
        "Mitchell",
        34,
        "en",
        "ankle",
        "left",
        ("plantar_fasciitis",),
        "gradual",
        ("sharp",),
        "Running",
        "Plantar heel pain after a marathon build-up.",
        "improving",
    ),
    DemoCase(
        "Elena",
        "Vargas",
        47,
        "en",
        "knee_and_ankle",
        "right",
        ("other",),
        "gradual",
        ("throbbing", "intermittent"),
        "End of the day",
        "Compensation for a painful hip; monitor.",
        "not_improving",
        reminders=False,
    ),
)

COURSES = {
    # pain now at each visit, and LEFS total at each visit
    "improving": ((7, 5, 3, 2), (32, 45, 56, 64)),
    "slow": ((6, 6, 5, 5), (38, 41, 44, 46)),
    "not_improving": ((5, 6, 6, 7), (46, 44, 43, 39)),
}


def _lefs_answers(rng: random.Random, total: int) -> list[int]:
    """20 answers 0-4 adding up to ``total`` (spread unevenly, like a real form)."""
    answers = [0] * clinical.LEFS_ITEM_COUNT
    remaining = max(0, min(total, clinical.LEFS_MAX_TOTAL))
    while remaining:
        index = rng.randrange(clinical.LEFS_ITEM_COUNT)
        if answers[index] < clinical.LEFS_MAX_ITEM:
            answers[index] += 1
            remaining -= 1
    return answers


def _ottawa(case: DemoCase) -> dict:
    """Findings for the Ottawa rules, with their inclusion criteria answered: only the
    sprain seen the day after is an acute injury (the one Ottawa-positive patient); the
    other cases are gradual or more than 7 days old, so the rules do not apply, except the
    recurrent ankle sprain, examined and negative."""
    if case.ottawa == "ankle_positive":
        return {
            "ottawa_acute_ankle_injury": True,
            "ottawa_acute_knee_injury": False,
            "ottawa_malleolar_zone_pain": True,
            "ottawa_tenderness_posterior_tibia_medial_malleolus": False,
            "ottawa_tenderness_posterior_fibula_lateral_malleolus": True,
            "ottawa_midfoot_zone_pain": False,
            "ottawa_unable_to_bear_weight": True,
        }
    if case.ottawa == "negative":
        findings = {
            "ottawa_acute_ankle_injury": case.mechanism == "injury" and case.region == "ankle",
            "ottawa_acute_knee_injury": False,
            "ottawa_malleolar_zone_pain": False,
            "ottawa_midfoot_zone_pain": False,
            "ottawa_unable_to_bear_weight": False,
        }
        if case.region != "ankle":
            findings.update(
                ottawa_knee_isolated_patella_tenderness=False,
                ottawa_knee_fibular_head_tenderness=False,
                ottawa_knee_cannot_flex_90=False,
            )
        return findings
    # Not examined for a fracture, but the therapist still answers the inclusion questions:
    # gradual onset or an injury more than 7 days ago, so the rules do not apply.
    return {"ottawa_acute_ankle_injury": False, "ottawa_acute_knee_injury": False}


def _onset_days(case: DemoCase) -> int:
    if case.ottawa == "ankle_positive":
        return 1  # seen the day after the sprain
    return 10 if case.mechanism == "injury" else 90


def _progress_note(case: DemoCase, kind: str) -> str:
    if case.course == "improving":
        return f"{kind.title()}: progressing well, continue the plan."
    return f"{kind.title()}: slow progress; plan reviewed with the patient."


def _assessment_values(case, rng, when, kind, index, pain, lefs_total, complete=True) -> dict:
    answers: list[int | None] = list(_lefs_answers(rng, lefs_total))
    if not complete:
        answers[-3:] = [None, None, None]
    left = round(rng.uniform(7.0, 12.0), 1)
    stiff_side_gap = max(0.0, 3.0 - index)  # the gap closes as the ankle loosens
    right = round(max(0.0, left - stiff_side_gap - rng.uniform(0, 0.5)), 1)
    values = {
        "assessed_at": when,
        "kind": kind,
        "region": case.region,
        "side": case.side,
        "pain_now": pain,
        "pain_worst": min(10, pain + 2),
        "pain_best": max(0, pain - 2),
        "pain_qualities": list(case.qualities),
        "onset_date": (when - dt.timedelta(days=_onset_days(case))).date(),
        "onset_mechanism": case.mechanism,
        "aggravating_activities": case.aggravating,
        "suspected_causes": list(case.causes),
        "suspected_cause_other": "Compensation for pain elsewhere"
        if "other" in case.causes
        else "",
        "precautions": list(case.precautions),
        "knee_to_wall_left_cm": Decimal(str(left)),
        "knee_to_wall_right_cm": Decimal(str(right)),
        "knee_flexion_left": rng.randint(110, 140),
        "knee_flexion_right": rng.randint(110, 140),
        "knee_extension_left": rng.choice([0, 0, -2, -5]),
        "knee_extension_right": rng.choice([0, 0, -3]),
        "lefs_answers": answers,
        "clinical_impression": case.impression if index == 0 else _progress_note(case, kind),
    }
    if index == 0:
        values.update(_ottawa(case))
    return values


def seed_patients(staff: dict) -> list[Patient]:
    """Register the demo patients (if missing) with their assessment histories."""
    rng = random.Random(SEED)
    therapists = [staff[name] for name in ("demo-therapist", "demo-therapist2") if name in staff]
    front_desk = staff.get("demo-frontdesk")
    today = localtime.clinic_today()
    created = []
    for number, case in enumerate(CASES):
        # Draw every random value for this case even when it exists, so the others
        # come out the same whichever were seeded before.
        case_rng = random.Random(rng.randrange(1 << 30))
        dob = dt.date(today.year - case.age, 1 + case_rng.randrange(12), 1 + case_rng.randrange(28))
        local_part = clinical.normalise_name(f"{case.first}.{case.last}").replace("'", "")
        email = f"{local_part}@example.com"
        # The demo email identifies a demo patient (the birth date moves with the year).
        if Patient.objects.filter(email=email).exists():
            continue
        patient = services.patient_create(
            first_name=case.first,
            last_name=case.last,
            date_of_birth=dob,
            email=email,
            phone=f"+1 555 {case_rng.randrange(100, 999)} {case_rng.randrange(1000, 9999)}",
            preferred_language=case.language,
            timezone="America/New_York" if number % 5 else "America/Chicago",
            reminders_opt_in=case.reminders,
            acting_user=front_desk,
        )
        created.append(patient)
        therapist = therapists[number % len(therapists)] if therapists else None
        if therapist is None:
            continue
        _seed_history(case, case_rng, patient, therapist, today, number)
    return created


def _seed_history(case, rng, patient, therapist, today, number) -> None:
    pains: tuple[int, ...]
    lefs: tuple[int, ...]
    pains, lefs = COURSES[case.course]
    # 1 to 4 visits two weeks apart, the first up to seven weeks ago.
    visits = 1 + number % 4 if case.ottawa != "ankle_positive" else 1
    if case.ottawa == "ankle_positive":
        pains, lefs = (8,), (18,)
    first_day = today - dt.timedelta(days=7 + 14 * (visits - 1) + rng.randrange(3))
    zone = timezone.get_current_timezone()
    for index in range(visits):
        day = first_day + dt.timedelta(days=14 * index)
        when = dt.datetime.combine(day, dt.time(9 + rng.randrange(8), 0), tzinfo=zone)
        if index == 0:
            kind = "initial"
        elif index == visits - 1 and case.course == "improving" and visits == 4:
            kind = "discharge"
        else:
            kind = "reassessment"
        # The latest visit of every seventh patient is left as the therapist's draft.
        draft = index == visits - 1 and visits > 1 and number % 7 == 0
        values = _assessment_values(
            case, rng, when, kind, index, pains[index], lefs[index], complete=not draft
        )
        assessment = services.assessment_create(
            patient=patient, acting_user=therapist, values=values
        )
        if not draft:
            services.assessment_sign(assessment=assessment, acting_user=therapist)
        if case.reminders and index < visits - 1:
            # An email check-in a week after each visit, between this and the next one.
            services.pain_report_create(
                patient=patient,
                score=max(0, pains[index] - rng.choice([0, 1])),
                source=PainSource.EMAIL_LINK,
                reported_at=when + dt.timedelta(days=7, hours=10),
            )
