"""The WSGI module gunicorn serves: views loaded and objects frozen before requests."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wsgi_module_loads_every_view_and_freezes_what_it_loaded():
    """In a fresh interpreter, as gunicorn imports it: nothing of the app's views is
    loaded before, and after the import they are, with the loaded objects frozen."""
    probe = (
        "import gc, json, sys\n"
        "before = 'patients.views' in sys.modules\n"
        "import clinic.wsgi\n"
        "print(json.dumps([before, 'patients.views' in sys.modules,"
        " 'clinic.attention.views' in sys.modules, gc.get_freeze_count(),"
        " callable(clinic.wsgi.application)]))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "clinic.settings"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    before, patients_views, attention_views, frozen, app = json.loads(out.splitlines()[-1])
    assert not before and patients_views and attention_views and app
    assert frozen > 10_000
