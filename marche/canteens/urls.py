"""The canteens' pages, ``/cantine/``: managers' orders, producers' answers, invoices, EGalim.

Each area keeps its own URL module; they share the ``canteens`` namespace.
"""

from marche.canteens import delivery_urls, egalim_urls, invoice_urls, manager_urls, producer_urls

app_name = "canteens"

urlpatterns = [
    *manager_urls.urlpatterns,
    *producer_urls.urlpatterns,
    *invoice_urls.urlpatterns,
    *egalim_urls.urlpatterns,
    *delivery_urls.urlpatterns,
]
