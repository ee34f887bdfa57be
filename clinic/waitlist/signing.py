"""The signed link in a waitlist offer email: one purpose ("claim"), bound to the offer,
the patient and the address it was sent to, expiring when the offer does.

Same rules as the reminder links (clinic/reminders/signing.py): signed with SECRET_KEY
and a salt naming the purpose, the address kept only as a short keyed hash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from clinic.reminders.signing import (
    SALT_PREFIX,
    LinkExpired,
    LinkInvalid,
    email_hash,
    refusal,
)

CLAIM_SALT = SALT_PREFIX + "waitlist-claim"


@dataclass(frozen=True)
class ClaimGrant:
    offer_id: int
    patient_id: int
    email_hash: str

    def sent_to(self, email: str) -> bool:
        return bool(email) and constant_time_compare(self.email_hash, email_hash(email))


def make_claim_token(*, offer_id: int, patient_id: int, email: str, expires_at: dt.datetime) -> str:
    payload = {
        "o": offer_id,
        "p": patient_id,
        "e": email_hash(email),
        "x": int(expires_at.timestamp()),
    }
    return signing.dumps(payload, salt=CLAIM_SALT, compress=False)


def read_claim_token(token: str, *, now: dt.datetime | None = None) -> ClaimGrant:
    """The grant in ``token``, or a LinkError (clinic/reminders/signing.py) saying why not."""
    if not token or len(token) > 500:
        raise LinkInvalid
    try:
        payload = signing.loads(token, salt=CLAIM_SALT)
    except signing.BadSignature as exc:  # a reminder link pasted here: genuine, wrong page
        raise refusal(token) from exc
    if not isinstance(payload, dict):
        raise LinkInvalid
    offer_id, patient_id = payload.get("o"), payload.get("p")
    bound_to, expires = payload.get("e"), payload.get("x")
    if (
        not isinstance(offer_id, int)
        or not isinstance(patient_id, int)
        or not isinstance(expires, int)
        or not isinstance(bound_to, str)
    ):
        raise LinkInvalid
    now = now or timezone.now()
    if now.timestamp() >= expires:
        raise LinkExpired
    return ClaimGrant(offer_id=offer_id, patient_id=patient_id, email_hash=bound_to)


def claim_link(*, offer_id: int, patient_id: int, email: str, expires_at: dt.datetime) -> str:
    token = make_claim_token(
        offer_id=offer_id, patient_id=patient_id, email=email, expires_at=expires_at
    )
    return settings.SITE_URL + reverse("reminder_links:claim", args=[token])
