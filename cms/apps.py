from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    label = "cms"
    verbose_name = _("Site éditorial")

    def ready(self) -> None:
        from cms import cache, search_index
        from cms.selectors import site_root_territories
        from marche.territories.selectors import territory_site_reader_register

        # A request's territory is its site's: the one its root (home) page names.
        territory_site_reader_register(site_root_territories)

        # The public pages' shared cache is made stale by any change of what they show.
        cache.connect_signals()

        # A product's search entry follows the product (the catalogue searches Wagtail's index).
        post_save.connect(
            search_index.product_saved, sender="catalog.Product", dispatch_uid="cms_product_saved"
        )
        post_delete.connect(
            search_index.product_deleted,
            sender="catalog.Product",
            dispatch_uid="cms_product_deleted",
        )
