from django.urls import path

from marche.payments import views

app_name = "payments"

urlpatterns = [
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("carte/retour/", views.card_return, name="card_return"),
    path("connect/<int:producer_id>/", views.connect_onboarding, name="connect_onboarding"),
]
