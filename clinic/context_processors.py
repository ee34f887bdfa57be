from django.conf import settings


def clinic(request):
    # Templates decide what to show with ``perms`` (django.contrib.auth's context
    # processor), never by group name.
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
    }
