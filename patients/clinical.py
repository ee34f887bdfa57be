"""Clinical rules, as pure functions (no database, no Django models).

Every rule follows docs/clinical.md; the section is named next to it. The services call these
when an assessment is saved and store the results, so what a page shows is what was
computed on the server at the time, never something the browser worked out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

# --- LEFS (docs/clinical.md §3) -------------------------------------------------------------

LEFS_ITEMS: tuple[str, ...] = (
    "Any of your usual work, housework or school activities",
    "Your usual hobbies, recreational or sporting activities",
    "Getting into or out of the bath",
    "Walking between rooms",
    "Putting on your shoes or socks",
    "Squatting",
    "Lifting an object, like a bag of groceries, from the floor",
    "Performing light activities around your home",
    "Performing heavy activities around your home",
    "Getting into or out of a car",
    "Walking 2 blocks",
    "Walking a mile",
    "Going up or down 10 stairs (about 1 flight of stairs)",
    "Standing for 1 hour",
    "Sitting for 1 hour",
    "Running on even ground",
    "Running on uneven ground",
    "Making sharp turns while running fast",
    "Hopping",
    "Rolling over in bed",
)
LEFS_ITEM_COUNT = 20
LEFS_MAX_ITEM = 4
LEFS_MAX_TOTAL = LEFS_ITEM_COUNT * LEFS_MAX_ITEM  # 80
LEFS_ANSWER_LABELS: tuple[str, ...] = (
    "Extreme difficulty or unable",
    "Quite a bit of difficulty",
    "Moderate difficulty",
    "A little bit of difficulty",
    "No difficulty",
)
# Minimal detectable change and MCID are both 9 points (Binkley 1999).
LEFS_MCID = 9


def lefs_validate(answers: Sequence[int | None]) -> list[int | None]:
    """The 20 answers as a list, each None (unanswered) or an int 0-4; ValueError otherwise."""
    answers = list(answers)
    if len(answers) != LEFS_ITEM_COUNT:
        raise ValueError(f"The LEFS has {LEFS_ITEM_COUNT} items, got {len(answers)}.")
    for number, answer in enumerate(answers, start=1):
        if answer is None:
            continue
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise ValueError(f"LEFS item {number}: answer must be a whole number 0-4.")
        if not 0 <= answer <= LEFS_MAX_ITEM:
            raise ValueError(f"LEFS item {number}: answer must be from 0 to 4, got {answer}.")
    return answers


def lefs_total(answers: Sequence[int | None]) -> int | None:
    """Total 0-80, or None unless all 20 items were answered.

    There is no published prorating rule for missing answers; the clinic's decision is
    to keep an incomplete form without a total rather than guess one.
    """
    answers = lefs_validate(answers)
    if not answers or any(answer is None for answer in answers):
        return None
    return sum(answer for answer in answers if answer is not None)


def lefs_percent(total: int | None) -> float | None:
    """Percent of maximal function: total / 80 x 100, one decimal."""
    if total is None:
        return None
    return round(total / LEFS_MAX_TOTAL * 100, 1)


def lefs_answered(answers: Sequence[int | None]) -> int:
    return sum(1 for answer in answers if answer is not None)


def lefs_missing(answers: Sequence[int | None]) -> list[int]:
    """The item numbers (1-20) not answered, for a form that must name them."""
    return [number for number, answer in enumerate(answers, start=1) if answer is None]


# --- Ottawa rules (docs/clinical.md §4) -----------------------------------
#
# Each rule applies only to the patients it was derived for (its inclusion criterion):
# the ankle and foot rules to an acute ankle or foot injury, the knee rule to an adult
# with a blunt knee injury within 7 days. Every field is tri-state: True, False or None
# ("not examined"). A rule's verdict is one of four:
#
# - "does_not_apply": the inclusion criterion is answered No, or the patient is younger
#   than the rule's population (knee: under 18; ankle and foot: under 5);
# - "not_examined": the inclusion criterion is not answered, or it is answered Yes but the
#   findings needed to decide are not (a None never counts as positive, and never as
#   negative either);
# - "indicated": the inclusion criterion is Yes and the rule's findings call for an x-ray
#   (for the knee, age 55 or over on the assessment date is enough by itself);
# - "not_indicated": the inclusion criterion is Yes and every finding needed to rule the
#   x-ray out was examined and negative (ankle or foot: no pain in the zone is enough).
#
# Only "indicated" is an Ottawa-positive result (the x-ray flag the plan-of-care and
# visit-note screening count as a suspected fracture).

XRAY_INDICATED = "indicated"
XRAY_NOT_INDICATED = "not_indicated"
RULE_DOES_NOT_APPLY = "does_not_apply"
NOT_EXAMINED = "not_examined"
OTTAWA_VERDICTS = (XRAY_INDICATED, XRAY_NOT_INDICATED, RULE_DOES_NOT_APPLY, NOT_EXAMINED)


@dataclass(frozen=True)
class OttawaFindings:
    """Examination findings; None means "not examined" and never counts as positive."""

    # Inclusion criteria: an acute ankle or foot injury (ankle and foot rules), a blunt
    # knee injury within the last 7 days (knee rule).
    acute_ankle_injury: bool | None = None
    acute_knee_injury: bool | None = None
    malleolar_zone_pain: bool | None = None
    tenderness_posterior_tibia_medial_malleolus: bool | None = None
    tenderness_posterior_fibula_lateral_malleolus: bool | None = None
    midfoot_zone_pain: bool | None = None
    tenderness_base_fifth_metatarsal: bool | None = None
    tenderness_navicular: bool | None = None
    unable_to_bear_weight: bool | None = None
    knee_isolated_patella_tenderness: bool | None = None
    knee_fibular_head_tenderness: bool | None = None
    knee_cannot_flex_90: bool | None = None


@dataclass(frozen=True)
class OttawaResult:
    ankle_verdict: str
    foot_verdict: str
    knee_verdict: str
    reasons: tuple[str, ...]

    @property
    def ankle(self) -> bool:
        return self.ankle_verdict == XRAY_INDICATED

    @property
    def foot(self) -> bool:
        return self.foot_verdict == XRAY_INDICATED

    @property
    def knee(self) -> bool:
        return self.knee_verdict == XRAY_INDICATED

    @property
    def any(self) -> bool:
        return self.ankle or self.foot or self.knee


KNEE_RULE_AGE = 55
# The knee rule was derived for adults; the ankle and foot rules in adults and are
# reported reliable in children over 5 (docs/clinical.md §4).
KNEE_RULE_MIN_AGE = 18
ANKLE_RULE_MIN_AGE = 5


def _any_of(values) -> bool | None:
    """True when any finding is positive, False when all were examined and negative,
    None when that cannot be told (none positive, some not examined)."""
    values = tuple(values)
    if any(value is True for value in values):
        return True
    if all(value is False for value in values):
        return False
    return None


_FROM_ANY = {True: XRAY_INDICATED, False: XRAY_NOT_INDICATED, None: NOT_EXAMINED}


def _zone_rule(inclusion: bool | None, age_years: int, zone_pain: bool | None, findings) -> str:
    if age_years < ANKLE_RULE_MIN_AGE or inclusion is False:
        return RULE_DOES_NOT_APPLY
    if inclusion is None or zone_pain is None:
        return NOT_EXAMINED
    if zone_pain is False:
        return XRAY_NOT_INDICATED
    return _FROM_ANY[_any_of(findings)]


def ottawa_ankle_series(f: OttawaFindings, age_years: int) -> str:
    """Acute ankle or foot injury: pain in the malleolar zone AND any of: posterior tibia /
    medial malleolus tenderness, posterior fibula / lateral malleolus tenderness, unable
    to bear weight for 4 steps."""
    return _zone_rule(
        f.acute_ankle_injury,
        age_years,
        f.malleolar_zone_pain,
        (
            f.tenderness_posterior_tibia_medial_malleolus,
            f.tenderness_posterior_fibula_lateral_malleolus,
            f.unable_to_bear_weight,
        ),
    )


def ottawa_foot_series(f: OttawaFindings, age_years: int) -> str:
    """Acute ankle or foot injury: pain in the midfoot zone AND any of: base of 5th
    metatarsal tenderness, navicular tenderness, unable to bear weight for 4 steps."""
    return _zone_rule(
        f.acute_ankle_injury,
        age_years,
        f.midfoot_zone_pain,
        (
            f.tenderness_base_fifth_metatarsal,
            f.tenderness_navicular,
            f.unable_to_bear_weight,
        ),
    )


def ottawa_knee(f: OttawaFindings, age_years: int) -> str:
    """Adult with a blunt knee injury within 7 days: x-ray if any of age >= 55, isolated
    patella tenderness, fibular head tenderness, cannot flex to 90 degrees, unable to bear
    weight for 4 steps."""
    if age_years < KNEE_RULE_MIN_AGE or f.acute_knee_injury is False:
        return RULE_DOES_NOT_APPLY
    if f.acute_knee_injury is None:
        return NOT_EXAMINED
    if age_years >= KNEE_RULE_AGE:
        return XRAY_INDICATED
    return _FROM_ANY[
        _any_of(
            (
                f.knee_isolated_patella_tenderness,
                f.knee_fibular_head_tenderness,
                f.knee_cannot_flex_90,
                f.unable_to_bear_weight,
            )
        )
    ]


def ottawa_evaluate(f: OttawaFindings, age_years: int) -> OttawaResult:
    ankle = ottawa_ankle_series(f, age_years)
    foot = ottawa_foot_series(f, age_years)
    knee = ottawa_knee(f, age_years)
    reasons = []
    if ankle == XRAY_INDICATED:
        reasons.append("Ottawa ankle rule positive: ankle x-ray series indicated")
    if foot == XRAY_INDICATED:
        reasons.append("Ottawa foot rule positive: foot x-ray series indicated")
    if knee == XRAY_INDICATED:
        why = []
        if age_years >= KNEE_RULE_AGE:
            why.append(f"age {age_years}")
        if f.knee_isolated_patella_tenderness:
            why.append("isolated patella tenderness")
        if f.knee_fibular_head_tenderness:
            why.append("fibular head tenderness")
        if f.knee_cannot_flex_90:
            why.append("cannot flex to 90°")
        if f.unable_to_bear_weight:
            why.append("unable to bear weight")
        reasons.append("Ottawa knee rule positive (" + ", ".join(why) + "): knee x-ray indicated")
    return OttawaResult(
        ankle_verdict=ankle, foot_verdict=foot, knee_verdict=knee, reasons=tuple(reasons)
    )


def ottawa_verdict_text(rule: str, verdict: str, *, inclusion: bool | None) -> str:
    """How a stored verdict reads on the page (``rule`` is "ankle", "foot" or "knee")."""
    if verdict == XRAY_INDICATED:
        return "X-ray indicated"
    if verdict == XRAY_NOT_INDICATED:
        return "X-ray not indicated"
    injury = "knee" if rule == "knee" else "ankle or foot"
    if verdict == RULE_DOES_NOT_APPLY:
        if inclusion is False:
            return f"Rule does not apply: no acute {injury} injury"
        if rule == "knee":
            return f"Rule does not apply: under {KNEE_RULE_MIN_AGE} (derived for adults)"
        return f"Rule does not apply: under {ANKLE_RULE_MIN_AGE}"
    if verdict == NOT_EXAMINED:
        if inclusion is None:
            return f"Not examined: acute {injury} injury not recorded"
        return "Not examined: findings incomplete"
    raise ValueError(f"Unknown Ottawa verdict {verdict!r}")


def age_on(date_of_birth, day) -> int:
    """Whole years on ``day`` (a birthday counts from that day)."""
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


# --- Knee-to-wall test (docs/clinical.md §7) -------------------------------------------------

KNEE_TO_WALL_MDD_CM = Decimal("1.5")


def knee_to_wall_difference(left, right) -> Decimal | None:
    if left is None or right is None:
        return None
    return abs(Decimal(str(left)) - Decimal(str(right)))


def knee_to_wall_flag(left, right) -> bool:
    """True when left and right differ by more than 1.5 cm (the minimal detectable
    difference between legs, Chisholm 2012); exactly 1.5 cm is not flagged."""
    difference = knee_to_wall_difference(left, right)
    return difference is not None and difference > KNEE_TO_WALL_MDD_CM


# --- Change over time (docs/clinical.md §2 and §3) ------------------------------------------

NPRS_MCID_POINTS = 2
NPRS_MCID_PERCENT = 30


@dataclass(frozen=True)
class Change:
    first: int
    latest: int
    points: int  # latest - first (negative = less pain / worse function)
    percent: float | None  # relative to first; None when first is 0
    important_improvement: bool
    important_worsening: bool


def nprs_change(first: int, latest: int) -> Change:
    """Pain change; clinically important improvement is a drop of >= 2 points or >= 30%
    (Farrar 2001). A rise of >= 2 points is flagged as clinically important worsening."""
    points = latest - first
    percent = None if first == 0 else round(points / first * 100, 1)
    drop = -points
    improvement = drop >= NPRS_MCID_POINTS or (
        first > 0 and drop > 0 and drop / first * 100 >= NPRS_MCID_PERCENT
    )
    return Change(
        first=first,
        latest=latest,
        points=points,
        percent=percent,
        important_improvement=improvement,
        important_worsening=points >= NPRS_MCID_POINTS,
    )


def lefs_change(first: int, latest: int) -> Change:
    """Function change; 9 points either way is clinically important (MCID = MDC = 9)."""
    points = latest - first
    percent = None if first == 0 else round(points / first * 100, 1)
    return Change(
        first=first,
        latest=latest,
        points=points,
        percent=percent,
        important_improvement=points >= LEFS_MCID,
        important_worsening=points <= -LEFS_MCID,
    )


def nprs_validate(score: object) -> int:
    """A pain score as an int 0-10; ValueError otherwise (docs/clinical.md §2)."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValueError("Pain must be a whole number from 0 to 10.")
    return score


def nprs_band(score: int) -> str:
    """docs/clinical.md §2 bands."""
    if score == 0:
        return "none"
    if score <= 3:
        return "mild"
    if score <= 6:
        return "moderate"
    return "severe"


# --- Registry normalisation ------------------------------------------------------------


def normalise_name(text: str) -> str:
    """Lower case, accents stripped, single spaces: "José  Núñez" -> "jose nunez".

    Used both for the stored Patient.search_name and for the search query, so search is
    accent- and case-insensitive on SQLite and PostgreSQL alike."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


PHONE_ALLOWED = re.compile(r"^\+?[\d\s().\-/]+$")


def phone_digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


def normalise_phone(text: str) -> str:
    """ "(555) 010-1234" -> "5550101234", "+1 555 010 1234" -> "+15550101234".

    Raises ValueError when it is not a phone number (letters, too few or too many digits).
    """
    text = (text or "").strip()
    if not text:
        return ""
    if not PHONE_ALLOWED.match(text):
        raise ValueError("Use digits, spaces, brackets, dots or dashes, optionally a leading +.")
    digits = phone_digits(text)
    if not 7 <= len(digits) <= 15:
        raise ValueError("A phone number has 7 to 15 digits.")
    return ("+" if text.startswith("+") else "") + digits


def parse_ottawa_findings(values: Mapping[str, bool | None]) -> OttawaFindings:
    """Build findings from a mapping keyed like the Assessment fields (``ottawa_*``)."""
    kwargs = {}
    for name in OttawaFindings.__dataclass_fields__:
        kwargs[name] = values.get(f"ottawa_{name}")
    return OttawaFindings(**kwargs)
