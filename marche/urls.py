from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from cms.views import robots_txt
from marche.core.views import favicon, healthz, healthz_live

# The site's own error pages, in French (English under /en/), styled like the site.
handler403 = "marche.core.views.permission_denied"
handler404 = "marche.core.views.page_not_found"
handler500 = "marche.core.views.server_error"

# The Django admin is for superusers only; coordinators work in the Wagtail admin (/admin/).
admin.site.has_permission = lambda request: bool(  # type: ignore[method-assign]
    request.user.is_active and request.user.is_superuser
)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/live", healthz_live, name="healthz-live"),
    path("favicon.ico", favicon),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("robots.txt", robots_txt, name="robots-txt"),
    path("admin/", include(wagtailadmin_urls)),
    path("django-admin/", admin.site.urls),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("paiements/", include("marche.payments.urls")),
    path("api/v1/", include("marche.api")),
]

urlpatterns += i18n_patterns(
    path("compte/mannes/", include("marche.mannes.urls")),
    path("compte/", include("marche.accounts.urls")),
    path("commander/", include("marche.orders.urls")),
    path("preparation/", include("marche.orders.staff_urls")),
    path("producteur/", include("marche.producers.urls")),
    path("conditions/", include("marche.accounts.terms_urls")),
    path("logistique/", include("logistics.planning_urls")),
    path("chauffeur/", include("logistics.driver_urls")),
    path("relais/", include("marche.relays.urls")),
    path("cantine/", include("marche.canteens.urls")),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
