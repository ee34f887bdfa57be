"""The Celery application, configured from Django settings (CELERY_ namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_folders() -> None:
    """The filesystem transport needs its folders to exist before anyone publishes."""
    from django.conf import settings

    if str(settings.CELERY_BROKER_URL).startswith("filesystem"):
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            os.makedirs(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]), exist_ok=True)
        os.makedirs(settings.CELERY_RESULT_BACKEND.removeprefix("file://"), exist_ok=True)
