"""The producer's canteen pages: lines to answer per cycle and wholesale terms."""

from django.urls import path

from marche.canteens import producer_views

urlpatterns: list = [
    path("producteur/", producer_views.index, name="producer_index"),
    path(
        "producteur/<int:producer_id>/cycles/<int:cycle_id>/",
        producer_views.cycle_lines,
        name="producer_lines",
    ),
    path(
        "producteur/<int:producer_id>/lignes/<int:line_id>/",
        producer_views.line_answer,
        name="producer_line_answer",
    ),
    path(
        "producteur/<int:producer_id>/prix-de-gros/",
        producer_views.wholesale,
        name="producer_wholesale",
    ),
]
