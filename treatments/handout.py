"""The printed home-exercise handout in the patient's language (English or Spanish).

Two languages, written out here rather than through gettext catalogues, so the handout
needs no compiled message files and a clinician can read both versions side by side.
"""

from __future__ import annotations

from django.conf import settings

from .models import ExercisePrescription, HomeExerciseProgram

LANGUAGES = ("en", "es")

TEXT = {
    "en": {
        "title": "Your home exercise program",
        "for": "For",
        "from": "Starting",
        "until": "until",
        "days": "Exercise days",
        "prescribed_by": "Prescribed by",
        "how_much": "How much",
        "how_to": "How to do it",
        "notes": "Your therapist's notes",
        "self_care": "Looking after yourself",
        "self_care_items": [
            "Right after an injury, think PEACE: Protect the area for a few days, Elevate "
            "it, Avoid anti-inflammatory medicines and ice unless your clinician advises "
            "them, Compress to limit swelling, and Educate yourself about recovery.",
            "Afterwards, think LOVE: Load (gradually return to normal activity), Optimism, "
            "Vascularisation (pain-free cardio such as cycling or swimming) and Exercise.",
            "Ice or heat for 10–20 minutes at a time can ease pain. Do not use heat on a "
            "new injury.",
            "Change activities that flare your pain: for example cycle or swim instead of "
            "walking long distances for a while.",
            "Replace your walking or running shoes every 6–12 months.",
        ],
        "stop": "Stop and call us if an exercise causes sharp pain, new numbness or swelling "
        "that does not settle.",
        "questions": "Questions? Call",
        "print": "Print or save as PDF",
        "back": "Back to the program",
    },
    "es": {
        "title": "Su programa de ejercicios en casa",
        "for": "Para",
        "from": "Desde el",
        "until": "hasta el",
        "days": "Días de ejercicio",
        "prescribed_by": "Indicado por",
        "how_much": "Cuánto",
        "how_to": "Cómo hacerlo",
        "notes": "Indicaciones de su fisioterapeuta",
        "self_care": "Cómo cuidarse",
        "self_care_items": [
            "Justo después de una lesión, recuerde PEACE: proteja la zona unos días, "
            "elévela, evite los antiinflamatorios y el hielo salvo que se los indique su "
            "profesional sanitario, aplique compresión para limitar la hinchazón e "
            "infórmese sobre su recuperación.",
            "Después, recuerde LOVE: carga (vuelva poco a poco a su actividad normal), "
            "optimismo, vascularización (ejercicio aeróbico sin dolor, como bicicleta o "
            "natación) y ejercicio.",
            "El frío o el calor durante 10–20 minutos cada vez pueden aliviar el dolor. No "
            "aplique calor en una lesión reciente.",
            "Cambie las actividades que empeoran su dolor: por ejemplo, durante un tiempo "
            "haga bicicleta o natación en lugar de caminar largas distancias.",
            "Cambie su calzado para caminar o correr cada 6–12 meses.",
        ],
        "stop": "Deténgase y llámenos si un ejercicio le causa un dolor agudo, un "
        "adormecimiento nuevo o una hinchazón que no baja.",
        "questions": "¿Tiene preguntas? Llame al",
        "print": "Imprimir o guardar como PDF",
        "back": "Volver al programa",
    },
}

WEEKDAY_NAMES = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
}
MONTHS_ES = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]


def weekday_names(days: list[int], language: str) -> str:
    if sorted(days) == list(range(7)):
        return "every day" if language == "en" else "todos los días"
    names = WEEKDAY_NAMES[language]
    return ", ".join(names[d] for d in sorted(days) if 0 <= d <= 6)


def format_date(day, language: str) -> str:
    if language == "es":
        return f"{day.day} de {MONTHS_ES[day.month - 1]} de {day.year}"
    return f"{day:%B} {day.day}, {day.year}"


def dose(prescription: ExercisePrescription, language: str) -> str:
    p = prescription
    if language == "es":
        parts = [
            f"{p.sets} {'serie' if p.sets == 1 else 'series'} de {p.reps} "
            f"{'repetición' if p.reps == 1 else 'repeticiones'}"
        ]
        if p.hold_seconds:
            parts.append(f"mantener {p.hold_seconds} segundos")
        parts.append("1 vez al día" if p.times_per_day == 1 else f"{p.times_per_day} veces al día")
        parts.append(
            "todos los días" if p.days_per_week == 7 else f"{p.days_per_week} días por semana"
        )
    else:
        parts = [f"{p.sets} {'set' if p.sets == 1 else 'sets'} of {p.reps}"]
        if p.hold_seconds:
            parts.append(f"hold {p.hold_seconds} seconds")
        parts.append(
            {1: "once a day", 2: "twice a day"}.get(
                p.times_per_day, f"{p.times_per_day} times a day"
            )
        )
        parts.append("every day" if p.days_per_week == 7 else f"{p.days_per_week} days a week")
    return ", ".join(parts)


def context(program: HomeExerciseProgram, language: str) -> dict:
    """Everything the handout template shows, in ``language``."""
    exercises = []
    for p in program.prescriptions.all():
        exercise = p.exercise
        name = exercise.name_es if language == "es" and exercise.name_es else exercise.name
        instructions = (
            exercise.instructions_es
            if language == "es" and exercise.instructions_es
            else exercise.instructions_en
        )
        exercises.append(
            {
                "name": name,
                "dose": dose(p, language),
                "steps": [line.strip() for line in instructions.splitlines() if line.strip()],
                "notes": p.notes,
            }
        )
    return {
        "language": language,
        "t": TEXT[language],
        "exercises": exercises,
        "start": format_date(program.start_date, language),
        "end": format_date(program.end_date, language) if program.end_date else "",
        "days": weekday_names(program.reminder_days or [], language),
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
    }
