"""The reminder emails: subject, text and HTML from templates, in the patient's language.

One set of templates per kind, written in English and marked for translation; the
patient's language comes from the catalogues in locale/ (README, "Languages").

What an email may say is deliberately little: the patient's first name, the clinic's
name and phone, the appointment time, and signed links. Never a diagnosis, body part,
score or exercise name: email crosses servers the clinic does not control.
"""

from __future__ import annotations

from email.utils import formataddr, make_msgid, parseaddr
from typing import Any

import dkim
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import format_html

from clinic.models import Reminder

from . import kinds
from .signing import absolute_link

LANGUAGES = {code for code, _name in settings.LANGUAGES}


def sender() -> str:
    """DEFAULT_FROM_EMAIL, shown under the clinic's name when it carries no name itself."""
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((name or settings.CLINIC_NAME, address or settings.DEFAULT_FROM_EMAIL))


def message_id_domain() -> str:
    """The clinic's sending domain, for Message-ID (not the worker host's name)."""
    if settings.EMAIL_MESSAGE_ID_DOMAIN:
        return str(settings.EMAIL_MESSAGE_ID_DOMAIN)
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return address.rpartition("@")[2] or "localhost"


# The headers the DKIM signature covers: who, what, when, and the unsubscribe headers,
# so a relay cannot swap the one-click link for its own.
DKIM_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"MIME-Version",
    b"Content-Type",
    b"Content-Language",
    b"Auto-Submitted",
)


def dkim_enabled() -> bool:
    return bool(settings.DKIM_SELECTOR and settings.DKIM_DOMAIN and settings.DKIM_PRIVATE_KEY)


class ReminderEmail(EmailMultiAlternatives):
    """A reminder email, DKIM-signed when DKIM_* settings are set.

    The signature is computed over the very bytes the SMTP backend sends
    (``message().as_bytes(linesep="\r\n")``) and added as the first header; relaxed
    canonicalisation lets relays re-fold headers without breaking it."""

    def message(self, *args: Any, **kwargs: Any) -> Any:
        msg = super().message(*args, **kwargs)
        if dkim_enabled():
            signature = dkim.sign(
                msg.as_bytes(linesep="\r\n"),
                settings.DKIM_SELECTOR.encode(),
                settings.DKIM_DOMAIN.encode(),
                settings.DKIM_PRIVATE_KEY.encode(),
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=list(DKIM_HEADERS),
            )
            name, _, value = signature.decode().partition(":")
            # Unfolded: the email package folds it again where it likes.
            value = " ".join(value.split())
            msg._headers.insert(0, (name, value))
        return msg


def sender_address() -> str:
    """The bare sending address (the calendar invitation's organizer)."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return address or settings.DEFAULT_FROM_EMAIL


def _context(reminder: Reminder, spec: kinds.KindSpec) -> dict[str, Any]:
    """What every email may say, the kind's own words, and the unsubscribe link of the
    kind's family (it turns off that family only: docs/decisions.md, "Consent per kind")."""
    patient = reminder.patient
    context: dict[str, Any] = {
        "first_name": patient.first_name,
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "clinic_address": settings.CLINIC_ADDRESS,
        "clinic_phone_link": format_html(
            '<a href="tel:{}" style="color:#0b5e6b;">{}</a>',
            settings.CLINIC_PHONE.replace(" ", ""),
            settings.CLINIC_PHONE,
        ),
        "family": spec.family.value,
    }
    context.update(spec.context(reminder))
    links = context.setdefault("links", {})
    links["unsubscribe"] = absolute_link(
        kinds.UNSUBSCRIBE_PURPOSE[spec.family], patient_id=patient.id, email=patient.email
    )
    return context


def reminder_message(reminder: Reminder) -> EmailMultiAlternatives:
    """The email for one reminder row (patient, program/appointment already loaded)."""
    patient = reminder.patient
    spec = kinds.spec_for(reminder.kind)
    language = patient.preferred_language if patient.preferred_language in LANGUAGES else "en"
    base = f"emails/reminders/{reminder.kind}"
    # Words (locale/), dates and month and weekday names in the patient's language.
    with translation.override(language):
        context = _context(reminder, spec)
        subject = " ".join(render_to_string(f"{base}.subject.txt", context).split())
        body = render_to_string(f"{base}.txt", context)
        html = render_to_string(f"{base}.html", context)
        attachments = spec.attachments(reminder)
    message = ReminderEmail(
        subject=subject,
        body=body,
        from_email=sender(),
        to=[patient.email],
        headers={
            # RFC 2369 and RFC 8058: mail clients show an "unsubscribe" button that POSTs
            # to the link without opening it in a browser.
            "List-Unsubscribe": f"<{context['links']['unsubscribe']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Content-Language": language,
            "Message-ID": make_msgid(domain=message_id_domain()),
        },
    )
    message.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments:
        message.attach(name, content, mimetype)
    return message
