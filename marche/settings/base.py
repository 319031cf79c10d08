"""Settings shared by every environment. Values come from the environment (see env.py).

With no environment at all, the project runs on its embedded default: a SQLite file,
Celery tasks executed in-process, e-mails printed on the console, a local-memory cache,
and card payments shown as not configured.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from marche.settings.env import BASE_DIR, database_config, env, mailer_config, redis_url

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.postgres",
    "marche.core",
    "marche.accounts",
    "marche.territories",
    "marche.producers",
    "marche.catalog",
    "marche.relays",
    "marche.canteens",
    "marche.cycles",
    "marche.orders",
    "marche.payments",
    "marche.mannes",
    "marche.demo",
    "logistics",
    "cms",
    "frontend",
    "ninja",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # After the CSP middleware: picks the policy it writes, adds Permissions-Policy.
    "marche.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Anonymous visitors' Wagtail pages from the shared cache (cms/cache.py).
    "cms.cache.PublicPageCacheMiddleware",
    "marche.core.middleware.DomainErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it answers a locked-out login with its page.
    "axes.middleware.AxesMiddleware",
]

# Browser protections ------------------------------------------------------------------
# The site's pages load only their own scripts, styles and images (no inline script or
# style, no other origin); form posts stay on the site, except the card payment's redirect
# to Stripe Checkout. Wagtail's admin writes inline scripts and styles: it gets its own
# policy (marche/core/middleware.py), still closed to other origins.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF, "https://checkout.stripe.com"],
}
MARCHE_ADMIN_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.SELF],
    "form-action": [CSP.SELF],
}
# Browser features no page uses are refused to every frame; the position only to the site.
MARCHE_PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "camera": [],
    "geolocation": ["self"],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}

ROOT_URLCONF = "marche.urls"
WSGI_APPLICATION = "marche.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "marche.core.context_processors.site_context",
            ],
        },
    },
]

# Data ---------------------------------------------------------------------------------
DATABASES = {
    "default": database_config(
        env.str("DATABASE_URL", default=""), default_sqlite=BASE_DIR / "var" / "marche.sqlite3"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = redis_url(env.str("REDIS_URL", default=""))

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "marche",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# How long a public page stays in the shared cache for anonymous visitors (0: off). Saves
# invalidate at once; this bounds stock moved without a signal and the week's clock.
MARCHE_PAGE_CACHE_SECONDS = env.int("MARCHE_PAGE_CACHE_SECONDS", default=60)

# Celery: a real broker when REDIS_URL is set, otherwise tasks run in-process. ---------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task a lost worker had taken (acks_late) goes back to the queue after this many seconds:
# longer than the longest plan computation (logistics.services.MAX_TIME_LIMIT_S, 600 s, plus
# consolidation and storing), or a slow solve would be handed to a second worker while it
# runs. Checked at start-up (logistics.checks).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("MARCHE_BROKER_VISIBILITY_TIMEOUT_S", default=3600)
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "expire-stock-holds": {"task": "cycles.expire_stock_holds", "schedule": 60.0},
    "expire-pending-orders": {"task": "orders.expire_pending", "schedule": 60.0},
    "expire-manne-holds": {"task": "mannes.expire_holds", "schedule": 60.0},
    "expire-manne-units": {"task": "mannes.expire_units", "schedule": 86400.0},
    "generate-cycles": {"task": "cycles.generate_from_schedules", "schedule": 3600.0},
    # Tasks the broker could not take when they were enqueued (see marche/core/outbox.py).
    "relay-outbox": {"task": "outbox.relay", "schedule": 30.0},
    "prune-outbox": {"task": "outbox.prune", "schedule": 86400.0},
    "close-due-cycles": {"task": "logistics.close_due_cycles", "schedule": 60.0},
    # Canteens: standing orders of open cycles made, unanswered lines confirmed after cutoff.
    "canteen-orders": {"task": "canteens.orders_housekeeping", "schedule": 300.0},
    # Daily and idempotent: the first run of a month issues last month's canteen invoices.
    "canteen-invoices": {"task": "canteens.invoices_issue_previous_month", "schedule": 86400.0},
}
# Task modules other than the apps' tasks.py, which autodiscovery does not find.
CELERY_IMPORTS = ("marche.canteens.invoice_tasks",)
# A long solve must not block the web or e-mail workers: it has its own queue, which a
# routing worker consumes (celery -A marche worker -Q routing).
CELERY_TASK_ROUTES = {"logistics.plan_compute": {"queue": "routing"}}

# Delivery planning ----------------------------------------------------------------------
# kg CO2e per km, use phase, per vehicle kind (logistics.models.VehicleKind). Source: the
# Arrêté du 26 avril 2017 (information GES des prestations de transport), annexe: gazole
# routier 3.17 kg CO2e/L, électricité consommée en France métropolitaine 0.048 kg CO2e/kWh;
# times assumed consumptions: van 8.5 L/100 km, cargo tricycle 2 kWh/100 km, assisted bike
# 1 kWh/100 km. See logistics/README.md.
LOGISTICS_EMISSION_FACTORS = {
    "van": "0.269",
    "cargo_tricycle": "0.001",
    "assisted_bike": "0.0005",
}
# Estimated kg per unit for products not sold by weight (the catalogue holds no weight).
LOGISTICS_UNIT_WEIGHT_KG = {"piece": "0.5", "bunch": "0.3", "dozen": "0.7", "litre": "1"}
# Litres of a vehicle's cold box taken by one chilled line of an order (catalog
# Product.is_chilled): the estimate of a small insulated bag per item.
LOGISTICS_COLD_LITRES_PER_ITEM = env.int("LOGISTICS_COLD_LITRES_PER_ITEM", default=3)
# Time to unload at a relay point (seconds).
LOGISTICS_STOP_SERVICE_S = env.int("LOGISTICS_STOP_SERVICE_S", default=300)
# Map tiles of the planning page; empty: no tiles, the markers, routes and scale are drawn
# on a plain background (nothing is fetched from outside the site).
LOGISTICS_TILE_URL = env.str("LOGISTICS_TILE_URL", default="")
LOGISTICS_TILE_ATTRIBUTION = env.str(
    "LOGISTICS_TILE_ATTRIBUTION", default="© les contributeurs d'OpenStreetMap"
)
# Road distances from an OSRM server (http://host:5000); empty: great-circle distances times
# the territory's detour factor.
LOGISTICS_OSRM_URL = env.str("LOGISTICS_OSRM_URL", default="")
# The relay keeper's page asks whether the driver has checked off the relay point's delivery
# through this function(relay_point, cycle) -> "delivered" | "planned" | None, so that marche
# need not import logistics; empty: no delivery rounds, no warning.
MARCHE_RELAY_DELIVERY_STATUS = env.str(
    "MARCHE_RELAY_DELIVERY_STATUS", default="logistics.relay_status.relay_delivery_status"
)
# A household's order page asks what the coordination decided for a relay point the rounds
# leave out through this function(relay_point, cycle) -> "other_day" | "hub_pickup" |
# "other_vehicle" | None; empty: no delivery rounds, nothing said.
MARCHE_RELAY_UNSERVED_DECISION = env.str(
    "MARCHE_RELAY_UNSERVED_DECISION", default="logistics.relay_status.relay_unserved_decision"
)
# A canteen's delivery may be recorded by the driver whose published round drops there: marche
# asks this function(user, canteen_order) -> bool, so that it need not import logistics nor
# know its plan states; empty: no delivery rounds, drivers do not record canteen deliveries.
MARCHE_CANTEEN_DRIVER_ROUND = env.str(
    "MARCHE_CANTEEN_DRIVER_ROUND", default="logistics.canteen_status.driver_round_drops_at_canteen"
)
# Solver time limit (seconds) of a plan computed from the planning page or after closing.
LOGISTICS_PLAN_TIME_LIMIT_S = env.float("LOGISTICS_PLAN_TIME_LIMIT_S", default=10.0)
# A plan computed on its delivery day sends no vehicle out before now plus this lead (minutes).
LOGISTICS_DEPARTURE_LEAD_MIN = env.int("LOGISTICS_DEPARTURE_LEAD_MIN", default=30)
# A new plan moves a destination off its usual vehicle or position only if that saves at
# least this share of the cost (percent); the coordinator can change it per plan.
LOGISTICS_STABILITY_THRESHOLD_PCT = env.str("LOGISTICS_STABILITY_THRESHOLD_PCT", default="5")
# Publishing a task after commit waits this long (seconds) for the broker, once, without
# retrying: a household is answered at once even when Redis is down; the relay retries.
MARCHE_OUTBOX_PUBLISH_TIMEOUT = env.float("MARCHE_OUTBOX_PUBLISH_TIMEOUT", default=0.5)

# Auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): 5 wrong passwords for one address from one client lock
# that pair for 15 minutes, on the site and both admins; a success before resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "marche.accounts.throttle.axes_username"
AXES_CLIENT_IP_CALLABLE = "marche.accounts.throttle.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "marche.accounts.throttle.axes_lockout_response"
AXES_VERBOSE = False
# Reverse proxies in front of Django that append to X-Forwarded-For (nginx: 1); 0 trusts
# only REMOTE_ADDR, so a client cannot choose the address its failures are counted under.
MARCHE_TRUSTED_PROXIES = env.int("MARCHE_TRUSTED_PROXIES", default=0)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "/"

# Languages and time -------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# Static and media ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "static")
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# E-mail: console by default, SMTP when EMAIL_URL is set (smtp://user:pass@host:587). -----
MAILERS = {"default": mailer_config(env.str("EMAIL_URL", default=""))}
# Production sets it: a mailer that delivers nothing is then a system check error.
MARCHE_REAL_MAILER_REQUIRED = False
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Marché local <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Wagtail -------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = env.str("WAGTAIL_SITE_NAME", default="Marché local")
WAGTAILADMIN_BASE_URL = env.str("WAGTAILADMIN_BASE_URL", default="http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "txt", "xlsx", "odt", "ods"]
# No avatars fetched from gravatar.com: it would learn who uses the admin (and the CSP
# allows no other origin).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# Nor does the admin ask releases.wagtail.org for new versions (the image pins them).
WAGTAIL_ENABLE_UPDATE_CHECK = False

# Payments: card payments are offered only when Stripe keys are in the environment. ------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# A local base address replaces api.stripe.com (a test double or a mock server).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
CARD_PAYMENTS_ENABLED = bool(STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)
# The public address of the site, for the return pages given to Stripe Checkout.
MARCHE_SITE_URL = env.str("MARCHE_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Project ------------------------------------------------------------------------------
# The territory shown when a request does not name one (one deployment may serve several).
MARCHE_DEFAULT_TERRITORY = env.str("MARCHE_DEFAULT_TERRITORY", default="")
# Settings modules that may load demo data (never production unless forced).
MARCHE_DEMO_ALLOWED = True
# Demo loaders run after the marketplace part, in order: logistics and the CMS contribute
# their own part of the demo without marche importing them.
MARCHE_DEMO_EXTRA_LOADERS = [
    "logistics.demo.demo_load_fleet",
    "cms.demo.demo_load_site",
    "marche.mannes.demo.demo_load_mannes",
]
# load_demo also makes a cycle past its cutoff, delivered today, with 150 confirmed orders to
# plan (marche/demo/due_cycle.py); `load_demo --no-due-cycle` skips it.
MARCHE_DEMO_DUE_CYCLE = env.bool("MARCHE_DEMO_DUE_CYCLE", default=True)
# Services checked at process start-up (production): an unreachable one stops the process.
MARCHE_STARTUP_CHECKS = env.bool("MARCHE_STARTUP_CHECKS", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "django.tasks": {"level": "WARNING"},
    },
}

# Payment methods offered at checkout, in order (see marche/payments/methods.py).
MARCHE_PAYMENT_METHODS = [
    "marche.payments.methods.PayAtPickup",
    "marche.payments.card.CardPayment",
]
# How long stock stays held for an order that waits for its payment.
# Stripe Checkout sessions last at least 30 minutes; the stock hold lasts as long.
MARCHE_ORDER_HOLD_MINUTES = 35
# The least a household may order of a product sold by weight or volume (kg or litre, à la
# carte): 50 g or 5 cl can still be weighed and packed; 1 g cannot.
MARCHE_ORDER_MIN_WEIGHT = "0.05"
# The longest a checkout, a payment or a cancellation waits for a row lock (PostgreSQL's
# lock_timeout, per transaction): beyond it the household is told to retry, never a 500.
MARCHE_LOCK_TIMEOUT_MS = env.int("MARCHE_LOCK_TIMEOUT_MS", default=5000)
# Farmers' offers. A price more than this factor above or below the product's usual price
# (median of its recent offers, else its catalogue price) is saved only once confirmed.
MARCHE_OFFER_PRICE_FACTOR = "3"
# The default maximum per order of an on-demand offer, in the product's unit; each farmer
# may change it per offer.
MARCHE_OFFER_MAX_PER_ORDER = "50"
