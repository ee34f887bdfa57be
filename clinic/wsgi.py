"""The WSGI application gunicorn serves (README, "Deploying")."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

application = get_wsgi_application()


def freeze_loaded_objects() -> None:
    """Load every view now (the URLconf imports them), then move every object made so
    far into the garbage collector's permanent generation (``gc.freeze``).

    Those objects (about 130,000: Django, the apps, their modules and classes) live as
    long as the process. Left in the collected generations, every full collection walks
    all of them, in the middle of whichever request set it off; a page that makes many
    objects (the patient page's 480-point chart) sets off more. Frozen before gunicorn
    forks its workers (``--preload``), their memory pages also stay shared.
    """
    get_resolver().url_patterns  # noqa: B018 - imports every view
    gc.freeze()


freeze_loaded_objects()
