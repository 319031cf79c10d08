"""The terms of use page, at the site's root (/conditions/, /en/conditions/)."""

from django.urls import path

from marche.accounts import views

urlpatterns = [path("", views.terms, name="terms")]
