"""The patient's questionnaire link (``reminder_links:questionnaire``, no login).

The signed token is the whole authorisation, read and checked like every reminder link
(clinic/reminders/views.py, ``link_view``): one purpose, an expiry, bound to the address
it was sent to and to one QuestionnaireResponse of that patient. GET only shows; a POST
scores and completes (patients.services.questionnaire_response_complete). An answered or
expired questionnaire says so and records nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from clinic.reminders.forms import PainCheckinForm
from clinic.reminders.signing import Purpose
from clinic.reminders.views import _outdated, link_view
from patients import clinical
from patients.audit import client_ip
from patients.models import QuestionnaireInstrument, QuestionnaireStatus
from patients.services import (
    QuestionnaireClosed,
    QuestionnaireIncomplete,
    questionnaire_response_complete,
)

from . import selectors
from .forms import LefsQuestionnaireForm


def _is_expired(response) -> bool:
    if response.status == QuestionnaireStatus.EXPIRED:
        return True
    cutoff = timezone.now() - dt.timedelta(days=settings.REMINDER_LINK_MAX_AGE_DAYS)
    return response.status == QuestionnaireStatus.REQUESTED and response.requested_at < cutoff


@link_view(Purpose.QUESTIONNAIRE)
@require_http_methods(["GET", "POST"])
def link_questionnaire(request, *, patient, grant):
    response = selectors.questionnaire_for_link(
        patient_id=patient.id, response_id=grant.response_id
    )
    if response is None:
        return _outdated(request, Purpose.QUESTIONNAIRE)
    context = {"patient": patient, "response": response}
    if response.status == QuestionnaireStatus.COMPLETED:
        return render(request, "clinic/questionnaires/link_done.html", context)
    if _is_expired(response):
        return render(request, "clinic/questionnaires/link_expired.html", context, status=410)
    lefs = response.instrument == QuestionnaireInstrument.LEFS
    data = request.POST if request.method == "POST" else None
    form = LefsQuestionnaireForm(data) if lefs else PainCheckinForm(data)
    if request.method == "POST" and form.is_valid():
        answers = form.answers() if lefs else [form.cleaned_data["score"]]
        try:
            questionnaire_response_complete(
                response=response, answers=answers, ip=client_ip(request)
            )
        except QuestionnaireClosed:
            pass  # answered a moment ago (another tab): the page says so
        except QuestionnaireIncomplete as error:
            form.add_error(None, str(error.message))
            return _form_page(request, context, form, lefs)
        return redirect(request.path)
    return _form_page(request, context, form, lefs)


def _form_page(request, context, form, lefs: bool):
    return render(
        request,
        "clinic/questionnaires/link_questionnaire.html",
        {**context, "form": form, "lefs": lefs, "item_count": clinical.LEFS_ITEM_COUNT},
        status=400 if form.is_bound and form.errors else 200,
    )
