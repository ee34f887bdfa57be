from django.conf import settings

from .roles import CLINIC_MANAGER, FRONT_DESK, THERAPIST, user_roles


def clinic(request):
    user = getattr(request, "user", None)
    roles = user_roles(user) if user is not None else set()
    superuser = bool(user and user.is_superuser)
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "is_therapist": superuser or THERAPIST in roles,
        "is_front_desk": superuser or FRONT_DESK in roles,
        "is_manager": superuser or CLINIC_MANAGER in roles,
    }
