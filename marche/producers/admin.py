from django.contrib import admin

from marche.producers.models import Producer, ProducerMembership


class MembershipInline(admin.TabularInline):
    model = ProducerMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Producer)
class ProducerAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "collective",
        "territory",
        "accepts_local_currency",
        "collected_on_round",
        "is_active",
    )
    list_filter = ("territory", "kind", "accepts_local_currency", "collected_on_round", "is_active")
    search_fields = ("name", "city")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]
