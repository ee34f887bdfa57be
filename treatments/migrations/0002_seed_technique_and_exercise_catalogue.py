"""Seed the technique catalogue, the default precaution table and the six home exercises.

This module is the single source of the technique and exercise seed data
(docs/clinical.md §1, §5). It imports no app code, so its precaution table is a frozen copy
of ``treatments.catalogue.DEFAULT_PRECAUTION_TABLE`` (docs/clinical.md §4), which owns the
published defaults; a test pins the two equal. ``load_catalogue`` takes the model classes as arguments, so the
migration calls it with historical models (``apps.get_model``) and
``treatments.catalogue`` calls it with the real ones (through ``importlib``, because a
module name starting with a digit cannot be imported with ``import``) to restore rows a
database flush removed.
"""

from django.db import migrations

GRADES_MOBILIZATION = ["I", "II", "III", "IV"]

TECHNIQUES = [
    {
        "code": "joint_mobilization",
        "name": "Joint mobilization",
        "description": (
            "Rhythmic, repeated passive movement of a stiff joint, graded by Maitland: "
            "I–II (short of resistance) for pain, III–IV (into resistance) for stiffness. "
            "Stays under the patient's control."
        ),
        "allowed_grades": GRADES_MOBILIZATION,
    },
    {
        "code": "soft_tissue_mobilization",
        "name": "Soft tissue mobilization",
        "description": (
            "Sustained or rhythmic pressure on muscles, tendons and ligaments to ease pain "
            "and restore tissue mobility. Not graded: record minutes and target."
        ),
        "allowed_grades": [],
    },
    {
        "code": "hvla_thrust",
        "name": "High-velocity low-amplitude (HVLA) thrust",
        "description": (
            "A quick, controlled, small-amplitude thrust at the end of the joint's available "
            "range, within its natural limit (Maitland grade V)."
        ),
        "allowed_grades": ["V"],
    },
    {
        "code": "muscle_energy",
        "name": "Muscle energy technique",
        "description": (
            "The patient contracts a muscle against the therapist's gentle counter-pressure, "
            "then relaxes into the new range. Not graded: record minutes and target."
        ),
        "allowed_grades": [],
    },
]

C, X = "caution", "contraindicated"
# Frozen copy of docs/clinical.md §4 as shipped; column order: joint mobilization, HVLA thrust, soft tissue, muscle energy.
_COLUMNS = ["joint_mobilization", "hvla_thrust", "soft_tissue_mobilization", "muscle_energy"]
_TABLE = {
    "fracture": [C, X, C, C],
    "malignancy": [X, X, X, C],
    "osteoporosis": [C, X, C, C],
    "instability": [C, X, None, C],
    "infection": [X, X, X, X],
    "inflammatory_arthritis": [C, X, C, C],
    "anticoagulation": [C, X, C, None],
    "neuro_deficit": [C, X, None, C],
    "dvt": [C, X, X, C],
    "myositis": [None, None, C, X],
}
# (precaution code, technique code) -> "caution" | "contraindicated"; absent = no restriction.
DEFAULT_PRECAUTION_RULES = {
    (precaution, technique): level
    for precaution, levels in _TABLE.items()
    for technique, level in zip(_COLUMNS, levels, strict=True)
    if level
}

# Instructions are stored one step per line; ranges in docs/clinical.md §5 are seeded at their
# lower bound (the therapist progresses from there).
EXERCISES = [
    {
        "code": "standing-calf-stretch",
        "name": "Standing calf stretch",
        "name_es": "Estiramiento de pantorrilla de pie",
        "instructions_en": (
            "Stand facing a wall with your hands on it at shoulder height.\n"
            "Step the leg to stretch back, keeping it straight and the heel on the floor.\n"
            "Bend the front knee and lean your hips towards the wall until you feel a "
            "stretch in the back calf.\n"
            "Hold the stretch without bouncing, then relax.\n"
            "Keep both feet pointing forward throughout."
        ),
        "instructions_es": (
            "Póngase de frente a una pared con las manos apoyadas a la altura de los hombros.\n"
            "Lleve hacia atrás la pierna que va a estirar, con la rodilla recta y el talón "
            "apoyado en el suelo.\n"
            "Doble la rodilla de delante e incline la cadera hacia la pared hasta notar el "
            "estiramiento en la pantorrilla de atrás.\n"
            "Mantenga el estiramiento sin rebotes y luego relájese.\n"
            "Mantenga ambos pies apuntando hacia delante en todo momento."
        ),
        "default_sets": 1,
        "default_reps": 3,
        "default_hold_seconds": 30,
        "default_times_per_day": 2,
        "default_days_per_week": 7,
    },
    {
        "code": "calf-raises",
        "name": "Calf raises",
        "name_es": "Elevaciones de talones",
        "instructions_en": (
            "Stand with your feet hip-width apart, holding a counter or chair for balance.\n"
            "Rise slowly onto the balls of both feet, as high as is comfortable.\n"
            "Pause at the top for a moment.\n"
            "Lower your heels slowly back to the floor.\n"
            "When this is easy, do it on one leg at a time."
        ),
        "instructions_es": (
            "Póngase de pie con los pies separados al ancho de la cadera y apóyese en una "
            "encimera o una silla para mantener el equilibrio.\n"
            "Suba despacio sobre las puntas de ambos pies, tan alto como le resulte cómodo.\n"
            "Haga una breve pausa arriba.\n"
            "Baje los talones despacio hasta el suelo.\n"
            "Cuando le resulte fácil, hágalo con una sola pierna."
        ),
        "default_sets": 2,
        "default_reps": 10,
        "default_hold_seconds": 0,
        "default_times_per_day": 1,
        "default_days_per_week": 6,
    },
    {
        "code": "lateral-step-downs",
        "name": "Lateral step downs",
        "name_es": "Descensos laterales desde un escalón",
        "instructions_en": (
            "Stand sideways on a low step (start with about 10 cm), holding a rail if "
            "you need to.\n"
            "Keep your weight on the leg on the step.\n"
            "Bend that knee slowly and lower the other heel to touch the floor lightly.\n"
            "Keep the knee in line with your second toe; do not let it fall inwards.\n"
            "Straighten back up slowly. Raise the step height only when this is easy."
        ),
        "instructions_es": (
            "Póngase de lado sobre un escalón bajo (empiece con unos 10 cm); si lo necesita, "
            "sujétese a una barandilla.\n"
            "Mantenga el peso sobre la pierna que está en el escalón.\n"
            "Doble esa rodilla despacio y baje el otro talón hasta rozar el suelo.\n"
            "Mantenga la rodilla alineada con el segundo dedo del pie; no deje que se vaya "
            "hacia dentro.\n"
            "Vuelva a estirar la pierna despacio. Suba la altura del escalón solo cuando "
            "le resulte fácil."
        ),
        "default_sets": 3,
        "default_reps": 10,
        "default_hold_seconds": 0,
        "default_times_per_day": 1,
        "default_days_per_week": 7,
    },
    {
        "code": "standing-side-leg-raise",
        "name": "Standing side leg raise",
        "name_es": "Elevación lateral de pierna de pie",
        "instructions_en": (
            "Stand tall beside a counter or chair and hold it for balance.\n"
            "Keeping your toes pointing forward, lift one leg out to the side.\n"
            "Hold for the time shown, without leaning your body.\n"
            "Lower the leg slowly.\n"
            "Repeat on the other side."
        ),
        "instructions_es": (
            "Póngase de pie y erguido junto a una encimera o una silla y sujétese para "
            "mantener el equilibrio.\n"
            "Con los dedos del pie mirando hacia delante, levante una pierna hacia el lado.\n"
            "Mantenga la posición el tiempo indicado, sin inclinar el cuerpo.\n"
            "Baje la pierna despacio.\n"
            "Repita con el otro lado."
        ),
        "default_sets": 2,
        "default_reps": 10,
        "default_hold_seconds": 3,
        "default_times_per_day": 1,
        "default_days_per_week": 7,
    },
    {
        "code": "single-leg-romanian-deadlift",
        "name": "Single-leg Romanian deadlift",
        "name_es": "Peso muerto rumano a una pierna",
        "instructions_en": (
            "Stand on one leg with a slight bend in the knee; touch a wall or chair for "
            "balance if you need to.\n"
            "Hinge forward at the hips, keeping your back straight, while the free leg "
            "reaches back behind you.\n"
            "Go down only as far as you can keep your hips level.\n"
            "Squeeze your buttock to return to standing.\n"
            "Repeat on the other side. Build up to 12 repetitions and 3 days a week."
        ),
        "instructions_es": (
            "Apóyese sobre una pierna con la rodilla ligeramente doblada; si lo necesita, "
            "toque una pared o una silla para mantener el equilibrio.\n"
            "Incline el tronco hacia delante desde la cadera, con la espalda recta, mientras "
            "la otra pierna se estira hacia atrás.\n"
            "Baje solo hasta donde pueda mantener la cadera nivelada.\n"
            "Apriete el glúteo para volver a la posición de pie.\n"
            "Repita con el otro lado. Aumente poco a poco hasta 12 repeticiones y 3 días "
            "por semana."
        ),
        "default_sets": 2,
        "default_reps": 8,
        "default_hold_seconds": 0,
        "default_times_per_day": 1,
        "default_days_per_week": 2,
    },
    {
        "code": "ankle-mobilization",
        "name": "Ankle mobilization (knee to wall)",
        "name_es": "Movilización de tobillo (rodilla a la pared)",
        "instructions_en": (
            "Stand facing a wall with the foot to treat a few centimetres from it.\n"
            "Keeping the heel down, bend the knee forward until it touches the wall.\n"
            "Hold, then straighten the knee.\n"
            "If the knee touches easily, move the foot a little further back.\n"
            "Keep the knee in line with your second toe."
        ),
        "instructions_es": (
            "Póngase de frente a una pared con el pie que va a tratar a unos centímetros "
            "de ella.\n"
            "Sin levantar el talón, doble la rodilla hacia delante hasta tocar la pared.\n"
            "Mantenga la posición y luego estire la rodilla.\n"
            "Si la rodilla toca la pared con facilidad, aleje el pie un poco más.\n"
            "Mantenga la rodilla alineada con el segundo dedo del pie."
        ),
        "default_sets": 1,
        "default_reps": 10,
        "default_hold_seconds": 15,
        "default_times_per_day": 2,
        "default_days_per_week": 7,
    },
]


def load_catalogue(Technique, PrecautionRule, Exercise) -> None:  # noqa: N803 - model classes
    """Create whatever catalogue rows are missing; never changes an existing row.

    Precaution rules are seeded only when the table is empty, so a clinic's edits
    (including a cell it cleared on purpose) are never undone.
    """
    techniques = {}
    for data in TECHNIQUES:
        technique, _ = Technique.objects.get_or_create(
            code=data["code"],
            defaults={k: v for k, v in data.items() if k != "code"},
        )
        techniques[data["code"]] = technique
    if not PrecautionRule.objects.exists():
        PrecautionRule.objects.bulk_create(
            PrecautionRule(precaution=precaution, technique=techniques[code], level=level)
            for (precaution, code), level in DEFAULT_PRECAUTION_RULES.items()
        )
    for data in EXERCISES:
        Exercise.objects.get_or_create(
            code=data["code"], defaults={k: v for k, v in data.items() if k != "code"}
        )


def seed(apps, schema_editor):
    load_catalogue(
        apps.get_model("treatments", "Technique"),
        apps.get_model("treatments", "PrecautionRule"),
        apps.get_model("treatments", "Exercise"),
    )


def unseed(apps, schema_editor):
    # Leave the catalogue in place: plans and notes may already refer to it (PROTECT).
    pass


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
