from django.urls import path

from marche.mannes import views

app_name = "mannes"

urlpatterns = [
    path("", views.overview, name="overview"),
]
