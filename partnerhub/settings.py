"""PartnerHub settings, read from the environment (see README "Configuration").

DJANGO_DEBUG=1 gives safe development defaults; without it the app is in production mode and
refuses to start without its secrets.
"""

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

_DEV_SECRET = "django-insecure-partnerhub-development-only"  # noqa: S105 - development default
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
if not DEBUG and (SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be a random string of 50+ characters.")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required when DJANGO_DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

SITE_URL = env.str("PARTNERHUB_SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "auditlog",
    "partnerhub.tenancy",
    "partnerhub.accounts",
    "partnerhub.audit",
    "partnerhub.core",
    "partners",
    "kpis",
    "settlements",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "partnerhub.tenancy.middleware.TenantMiddleware",
    "partnerhub.audit.middleware.AuditActorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "partnerhub.urls"
WSGI_APPLICATION = "partnerhub.wsgi.application"

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
                "partnerhub.tenancy.context_processors.tenancy",
                "partnerhub.core.context_processors.background",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# "default" is the application role: not a superuser, no BYPASSRLS, owns no table, so row-level
# security applies to every query it runs. "owner" owns the schema and runs migrations; in tests it
# creates the test database and "default" mirrors it (same database name, its own role).
DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` / `make test`, which start an embedded "
        "PostgreSQL, or point DATABASE_URL at your server (see README)."
    )
_app_db = env.db_url_config(DATABASE_URL)
_owner_db = env.db_url_config(env.str("DATABASE_OWNER_URL", default=DATABASE_URL))
for _db in (_app_db, _owner_db):
    _db["HOST"] = unquote(_db.get("HOST") or "")  # a unix socket directory arrives %2F-encoded
    _db["ENGINE"] = "django.db.backends.postgresql"
    _db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
_app_db["TEST"] = {"MIRROR": "owner"}
_owner_db["TEST"] = {"DEPENDENCIES": []}
DATABASES = {"default": _app_db, "owner": _owner_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL is not set. Use `make run` / `make test`, which start an embedded Redis, "
        "or point REDIS_URL at your server (see README)."
    )
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="partnerhub"),
        "TIMEOUT": 300,
    }
}


def _celery_url(redis_url: str) -> str:
    """Kombu names a unix-socket Redis ``redis+socket://`` (the embedded Redis uses a socket)."""
    parts = urlsplit(redis_url)
    if parts.scheme != "unix":
        return redis_url
    db = parse_qs(parts.query).get("db", ["0"])[0]
    return f"redis+socket://{parts.path}?virtual_host={db}"


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_celery_url(REDIS_URL))
# One queue per deployment by default; the end-to-end tests give their server and worker their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "partnerhub.core.tasks.worker_heartbeat",
        "schedule": 30.0,
    },
    "kpi-drift-detect": {
        "task": "kpis.drift_tasks.kpi_drift_detect",
        "schedule": crontab(hour=3, minute=30),
    },
    "partners-daily-reminders": {
        "task": "partners.tasks.partners_daily_reminders",
        "schedule": crontab(hour=6, minute=0),
    },
    "settlement-runs-nightly": {
        "task": "settlements.run_tasks.settlement_runs_nightly",
        "schedule": crontab(hour=1, minute=30),
    },
    "requeue-stale-jobs": {
        "task": "partnerhub.core.tasks.requeue_stale_jobs",
        "schedule": 300.0,
    },
    "purge-expired-api-tokens": {
        "task": "partnerhub.accounts.tasks.api_tokens_purge_expired",
        "schedule": crontab(hour=2, minute=15),
    },
}
# Seconds after which /healthz calls the Celery worker heartbeat stale.
CELERY_HEARTBEAT_MAX_AGE = env.int("CELERY_HEARTBEAT_MAX_AGE", default=120)

# --- Settlements --------------------------------------------------------------------------------
# Rows per insert batch of a usage CSV import (its progress step; a partial import commits each).
USAGE_IMPORT_BATCH_SIZE = env.int("USAGE_IMPORT_BATCH_SIZE", default=250_000)
if USAGE_IMPORT_BATCH_SIZE < 1:
    raise ImproperlyConfigured("USAGE_IMPORT_BATCH_SIZE must be a positive number of rows.")

# --- Accounts -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_LOCKOUT_CALLABLE = "partnerhub.core.errors.lockout"  # JSON under /api/, else the template
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# Reverse proxies in front of the app: the client address is taken from X-Forwarded-For,
# counting this many proxies from the right (0: use REMOTE_ADDR, never trust the header).
PROXY_COUNT = env.int("PARTNERHUB_PROXY_COUNT", default=0)
if PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER: tuple[str, ...] = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

OTP_TOTP_ISSUER = "PartnerHub"

API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=90)

# --- Email --------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="PartnerHub <noreply@partnerhub.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Audit --------------------------------------------------------------------------------------
AUDITLOG_LOGENTRY_MODEL = "audit.AuditEntry"
AUDITLOG_DISABLE_REMOTE_ADDR = False

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "partnerhub.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["partnerhub.accounts.permissions.HasRolePermission"],
    "DEFAULT_PAGINATION_CLASS": "partnerhub.core.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "partnerhub.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "partnerhub.core.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": "10/min"},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PartnerHub API",
    "DESCRIPTION": (
        "Partner relationship management for communications service providers. "
        "Authenticate with `POST /api/v1/auth/token/` and send `Authorization: Bearer <token>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "partnerhub.accounts.roles.Role",
        "UsageImportStatusEnum": "settlements.models.usage.UsageImport.Status",
        "PartnerStatusEnum": "partners.models.registry.PartnerStatus",
        "AgreementStatusEnum": "partners.models.agreements.AgreementStatus",
        "DisputeStatusEnum": "partners.models.relationship.DisputeStatus",
        "ChangeRequestKindEnum": "partners.models.registry.ChangeRequest.Kind",
        "ChangeRequestStatusEnum": "partners.models.registry.ChangeRequest.Status",
        "ChecklistKindEnum": "partners.models.onboarding.ChecklistKind",
        "ChecklistStepStateEnum": "partners.models.onboarding.ChecklistStep.State",
        "PartyEnum": "partners.models.onboarding.Party",
        "StatementStatusEnum": "settlements.models.engine.Statement.Status",
        # Settlement runs and exports share queued/running/done/failed.
        "SettlementJobStatusEnum": "settlements.models.exports.SettlementExport.Status",
        "SettlementExportKindEnum": "settlements.models.exports.SettlementExport.Kind",
    },
}

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", _NODE / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", _NODE / "bootstrap-icons" / "font"),
    ("vendor/htmx", _NODE / "htmx.org" / "dist"),
    ("vendor/chartjs", _NODE / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env.str("PARTNERHUB_MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media")))

# --- i18n ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security -----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts only from our own static files, never inline;
# styles may be inline (progress bars set their width). Data URLs for images: the 2FA QR code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Rate limits (django-ratelimit, counters in the Redis cache) on the anonymous forms that send
# email or create rows; login has django-axes, the token endpoint a DRF throttle.
RATELIMIT_VIEW = "partnerhub.core.views.rate_limited"
RATELIMIT_PASSWORD_RESET = env.str("RATELIMIT_PASSWORD_RESET", default="5/h")
RATELIMIT_APPLY = env.str("RATELIMIT_APPLY", default="10/h")
if PROXY_COUNT:
    RATELIMIT_IP_META_KEY = "partnerhub.core.views.client_ip"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
