"""Settings for the clinic dashboard, read from the environment.

Two modes, chosen by DJANGO_ENV:

- ``development`` (the default): embedded defaults so a fresh clone runs with no
  services at all: SQLite under ``var/``, Celery on kombu's filesystem transport,
  emails written to files under ``var/mail``.
- ``production``: nothing secret has a default. SECRET_KEY and ALLOWED_HOSTS must be
  set, DEBUG is off and the HTTPS hardening that ``check --deploy`` asks for is on.

DATABASE_URL and REDIS_URL switch either mode to PostgreSQL and Redis.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp import constants as csp_values
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development").strip().lower()
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production.")
    # Only ever used on a developer's machine: production refuses to start without one.
    SECRET_KEY = "development-only-insecure-key-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The clinic itself ---------------------------------------------------------------

CLINIC_NAME = os.environ.get("CLINIC_NAME", "Riverside Physical Therapy")
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "+1 555 010 0100")
# The street address named in appointment emails and their calendar entries.
CLINIC_ADDRESS = os.environ.get("CLINIC_ADDRESS", "12 River Road, Springfield")
# Where links in emails point to (the clinic's public address). In development it
# follows PORT, so `make run PORT=8301` sends links to port 8301 (the Makefile passes
# SITE_URL on to the worker and beat, whose PORT honcho numbers differently).
SITE_URL = os.environ.get(
    "SITE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000') or '8000'}"
).rstrip("/")

# Applications --------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "csp",
    "clinic",
    "patients",
    "treatments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (settings below, "Content-Security-Policy").
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ids in URL paths beyond what the database holds are 404, never a 500.
    "clinic.middleware.RecordIdRangeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Writes an access_denied audit event for every refused request to a clinical page.
    "clinic.audit.middleware.AccessDeniedAuditMiddleware",
    # Last, as django-axes asks: it turns a lockout raised by the backend into a response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

# Database ------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # Writers take the lock when their transaction begins, so two bookings can
        # never both read "free" and both write (the SQLite half of the no-double-booking rule).
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test-db.sqlite3")
    # Indexes that carry extra columns (``include``) serve PostgreSQL's index-only reads
    # (docs/decisions.md, "Pages at a clinic group's size"); SQLite builds them without
    # those columns, which is all the embedded default needs. Said once here, not on
    # every migrate.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The statements patients/sql.py prepares keep one plan, made for any values: by
    # default PostgreSQL weighs it against a fresh plan on each run and, at a clinic
    # group's size, planned the needs-attention rules and availability's visits anew
    # on every request (docs/decisions.md, "Pages at a clinic group's size"). Only
    # those statements are prepared: Django sends its own queries as text.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = " ".join(
        filter(None, [_options.get("options", ""), "-c plan_cache_mode=force_generic_plan"])
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Authentication ------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Length over composition rules (as NIST SP 800-63B advises): twelve characters at
    # least for accounts that open clinical records, and never a common or guessable one.
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "login"

# Lock an account (per username and address) after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Client addresses behind reverse proxies -----------------------------------------
# PROXY_COUNT: how many trusted reverse proxies (nginx, a load balancer) stand in front
# of the app. 0 (the default) ignores X-Forwarded-For, which a client can forge; set it
# to 1 behind the README's nginx. The audit log and the lockout above both read the
# address from patients.audit.client_ip.
_proxy_count = os.environ.get("PROXY_COUNT", "").strip() or "0"
if not _proxy_count.isdigit():
    raise ImproperlyConfigured("PROXY_COUNT must be a whole number of proxies: 0, 1, 2 ...")
PROXY_COUNT = int(_proxy_count)
AXES_CLIENT_IP_CALLABLE = "patients.audit.client_ip"

SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(10 * 60 * 60)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Staff account recovery: "Forgot password?" and the manager's unlock ---------------

# Reset links work this long (Django's default is three days).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", str(2 * 60 * 60)))
# "Forgot password?" requests per hour, per client address and per email address; over
# either limit the page looks the same but nothing is sent (clinic/services.py).
PASSWORD_RESET_PER_IP_PER_HOUR = int(os.environ.get("PASSWORD_RESET_PER_IP_PER_HOUR", "10"))
PASSWORD_RESET_PER_ADDRESS_PER_HOUR = int(
    os.environ.get("PASSWORD_RESET_PER_ADDRESS_PER_HOUR", "3")
)
# Rate limits count in the default cache, which every web process must share: Redis when
# REDIS_URL is set, otherwise files under var/ (one machine, any number of processes).
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "clinic",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Internationalisation ------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# Static files --------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Development serves straight from the apps' static folders; production from STATIC_ROOT.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email ---------------------------------------------------------------------------

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
else:
    # No SMTP server configured: every email lands as a file under var/mail.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f'"{CLINIC_NAME}" <reminders@localhost>')
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# DKIM signing of reminder emails (README, "SPF, DKIM and DMARC"): on when a selector,
# a domain and a private key (PEM, or a file holding it) are all set.
DKIM_SELECTOR = os.environ.get("DKIM_SELECTOR", "")
DKIM_DOMAIN = os.environ.get("DKIM_DOMAIN", "")
DKIM_PRIVATE_KEY = os.environ.get("DKIM_PRIVATE_KEY", "")
if os.environ.get("DKIM_PRIVATE_KEY_FILE"):
    DKIM_PRIVATE_KEY = Path(os.environ["DKIM_PRIVATE_KEY_FILE"]).read_text()
# The domain after "@" in each email's Message-ID: the clinic's sending domain (by
# default the DKIM domain, else the domain of DEFAULT_FROM_EMAIL), not the host's name.
EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("EMAIL_MESSAGE_ID_DOMAIN", DKIM_DOMAIN)

# Celery --------------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {"visibility_timeout": 3600}
else:
    # kombu's filesystem transport: a broker that needs no server, for a first run.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # An empty queue is polled; kombu's default of 1 s caps a worker at about one
        # task per second per process.
        "polling_interval": 0.1,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery-results'}"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# A task is acknowledged only once it finished, so a worker killed mid-task hands it
# back to the broker instead of losing it; the tasks themselves are idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "60"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "90"))
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "clinic.tasks.clear_expired_sessions",
        "schedule": timedelta(hours=1),
    },
    # The reminder outbox (clinic/reminders): find what is due, create rows, enqueue sends.
    "dispatch-reminders": {
        "task": "clinic.tasks.dispatch_reminders",
        "schedule": timedelta(seconds=int(os.environ.get("REMINDER_DISPATCH_SECONDS", "60"))),
        "options": {"queue": os.environ.get("REMINDER_QUEUE", "celery"), "expires": 55},
    },
    # The waitlist (clinic/waitlist): expire unclaimed offers, send the next wave.
    "sweep-waitlist-offers": {
        "task": "clinic.tasks.sweep_waitlist_offers",
        "schedule": timedelta(seconds=int(os.environ.get("WAITLIST_SWEEP_SECONDS", "60"))),
        "options": {"queue": os.environ.get("REMINDER_QUEUE", "celery"), "expires": 55},
    },
}

# Waitlist ------------------------------------------------------------------------

# A freed slot is offered to this many matching waitlist entries at once (oldest first);
# each wave stays open WAITLIST_OFFER_MINUTES, then the next wave goes out.
WAITLIST_WAVE_SIZE = int(os.environ.get("WAITLIST_WAVE_SIZE", "3"))
WAITLIST_OFFER_MINUTES = int(os.environ.get("WAITLIST_OFFER_MINUTES", "60"))

# Reminders -----------------------------------------------------------------------

# Appointment reminders go out this many hours before the visit: 48, a day before the
# late-cancellation window (24 h by default) closes, so the reminder's "Cancel" link
# still works and a freed slot can go to the waitlist (docs/decisions.md, "Scheduling").
APPOINTMENT_REMINDER_HOURS = int(os.environ.get("APPOINTMENT_REMINDER_HOURS", "48"))
# An exercise reminder that could not go out within this many hours of its local time
# (the system was down) is dropped rather than sent late in the evening.
EXERCISE_REMINDER_GRACE_HOURS = int(os.environ.get("EXERCISE_REMINDER_GRACE_HOURS", "4"))
# Queue for the dispatch and send tasks (tests use a private one).
REMINDER_QUEUE = os.environ.get("REMINDER_QUEUE", "celery")
# A mail server that does not answer (refused, timeout, 4xx) is retried with backoff for
# as long as the reminder is useful: 1st retry after base seconds, then 2x, 4x ... capped
# at REMINDER_RETRY_MAX_SECONDS. The next dispatch after that time sends it again.
REMINDER_RETRY_BASE_SECONDS = int(os.environ.get("REMINDER_RETRY_BASE_SECONDS", "60"))
REMINDER_RETRY_MAX_SECONDS = int(os.environ.get("REMINDER_RETRY_MAX_SECONDS", "1800"))
# A pending row whose send task has not run this long after it was enqueued (the
# broker lost it, or was down) is enqueued again by the next dispatch.
REMINDER_REQUEUE_AFTER_SECONDS = int(os.environ.get("REMINDER_REQUEUE_AFTER_SECONDS", "300"))
# A row still "sending" this long after its claim outlived the task's hard time limit:
# its worker died mid-send. It is marked "not confirmed", never re-sent automatically
# (clinic/reminders/services.py: at most once when delivery is in doubt).
REMINDER_STALE_SENDING_SECONDS = int(
    os.environ.get("REMINDER_STALE_SENDING_SECONDS", str(max(2 * CELERY_TASK_TIME_LIMIT, 300)))
)
# Rows per dispatch batch: a handful of queries per batch, never per patient.
REMINDER_BATCH_SIZE = int(os.environ.get("REMINDER_BATCH_SIZE", "1000"))
# Reminders per send task: one claim, one SMTP connection, outcomes recorded in bulk
# every REMINDER_RECORD_EVERY emails (a worker killed mid-batch leaves at most that many
# "not confirmed").
REMINDER_SEND_BATCH_SIZE = int(os.environ.get("REMINDER_SEND_BATCH_SIZE", "100"))
REMINDER_RECORD_EVERY = int(os.environ.get("REMINDER_RECORD_EVERY", "25"))
# The staff page counts each state and reason up to this many rows and shows "1000+"
# beyond: a bounded index range, never a count of every sent row (200,000 rows: 42 ms
# for the whole page on PostgreSQL, against 56 ms with a cap of 10,000).
REMINDER_COUNT_CAP = int(os.environ.get("REMINDER_COUNT_CAP", "1000"))
# How long the links in reminder emails work.
REMINDER_LINK_MAX_AGE_DAYS = int(os.environ.get("REMINDER_LINK_MAX_AGE_DAYS", "14"))

# Security ------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy ---------------------------------------------------------
# On every response, in development and tests too, so the browser tests run under the
# policy production sends. Only the app's own origin: no inline script, no on* handler
# (behaviour lives in static JS files), no inline <style> element, no framing, forms
# post only to the app. Two allowances, each for a reason:
# - img-src data:: Bootstrap's CSS draws its form controls with data: SVG images.
# - style-src-attr 'unsafe-inline': the calendar and the outcome chart place each
#   block with style="top: ..%; height: ..%", computed per page; a style attribute can
#   neither run script nor load anything (default-src still applies to url()).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_values.SELF],
        "script-src": [csp_values.SELF],
        "style-src": [csp_values.SELF],
        "style-src-attr": [csp_values.UNSAFE_INLINE],
        "img-src": [csp_values.SELF, "data:"],
        "form-action": [csp_values.SELF],
        "frame-ancestors": [csp_values.NONE],
        "base-uri": [csp_values.SELF],
        "object-src": [csp_values.NONE],
    }
}

# Two-step sign-in (clinic/mfa) -------------------------------------------------

# Before clinic, so clinic/admin.py can take django-otp's device admins off the admin.
_clinic_index = INSTALLED_APPS.index("clinic")
INSTALLED_APPS[_clinic_index:_clinic_index] = [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]
# OTPMiddleware gives request.user.is_verified(); SecondFactorMiddleware then sends a
# signed-in but unverified session to the second-factor step from every page.
_auth_index = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
MIDDLEWARE[_auth_index + 1 : _auth_index + 1] = [
    "django_otp.middleware.OTPMiddleware",
    "clinic.mfa.middleware.SecondFactorMiddleware",
]
# On: every staff user enrols at first sign-in and gives a code at each sign-in. Off
# (development): only users who enrolled are asked for their code.
STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", PRODUCTION)
OTP_TOTP_ISSUER = CLINIC_NAME
# django-otp's throttling: each wrong code doubles the wait (seconds) before the next try.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Patient links: rate limits per token and per IP (clinic/reminders/ratelimit.py) --------
REMINDER_LINK_RATE_WINDOW_SECONDS = int(os.environ.get("REMINDER_LINK_RATE_WINDOW_SECONDS", "600"))
REMINDER_LINK_RATE_LIMIT_PER_TOKEN = int(os.environ.get("REMINDER_LINK_RATE_LIMIT_PER_TOKEN", "30"))
REMINDER_LINK_RATE_LIMIT_PER_IP = int(os.environ.get("REMINDER_LINK_RATE_LIMIT_PER_IP", "300"))

# Needs attention (clinic/attention/): thresholds, clinic settings (docs/clinical.md §2
# NPRS: 7-10 is severe and 2 points is the clinically important change; §3 LEFS: the
# MCID is 9 points). Days without a done exercise and missed visits in a row are clinic
# decisions.
ATTENTION_PAIN_SCORE = int(os.environ.get("ATTENTION_PAIN_SCORE", "7"))
ATTENTION_PAIN_RISE = int(os.environ.get("ATTENTION_PAIN_RISE", "2"))
ATTENTION_LEFS_FALL = int(os.environ.get("ATTENTION_LEFS_FALL", "9"))
ATTENTION_NO_EXERCISE_DAYS = int(os.environ.get("ATTENTION_NO_EXERCISE_DAYS", "7"))
ATTENTION_MISSED_IN_A_ROW = int(os.environ.get("ATTENTION_MISSED_IN_A_ROW", "2"))

# Patient-reported questionnaires by email link (clinic/questionnaires/): asked this many
# days before each re-assessment and discharge visit, and every so many weeks of an
# active plan of care; which instrument ("lefs" or "nprs") the emails ask for.
QUESTIONNAIRE_DAYS_BEFORE_VISIT = int(os.environ.get("QUESTIONNAIRE_DAYS_BEFORE_VISIT", "2"))
QUESTIONNAIRE_EVERY_WEEKS = int(os.environ.get("QUESTIONNAIRE_EVERY_WEEKS", "2"))
QUESTIONNAIRE_INSTRUMENT = os.environ.get("QUESTIONNAIRE_INSTRUMENT", "lefs")
