from django.db import migrations


def copy_windows(apps, schema_editor):
    """The single window every canteen had becomes its window on each school day."""
    Canteen = apps.get_model("canteens", "Canteen")
    DeliveryWindow = apps.get_model("canteens", "DeliveryWindow")
    DeliveryWindow.objects.bulk_create(
        DeliveryWindow(
            canteen=canteen,
            weekday=weekday,
            starts_at=canteen.delivery_window_start,
            ends_at=canteen.delivery_window_end,
        )
        for canteen in Canteen.objects.all()
        for weekday in range(5)
    )


def copy_windows_back(apps, schema_editor):
    Canteen = apps.get_model("canteens", "Canteen")
    for canteen in Canteen.objects.all():
        window = canteen.delivery_windows.order_by("weekday").first()
        if window is not None:
            canteen.delivery_window_start = window.starts_at
            canteen.delivery_window_end = window.ends_at
            canteen.save(update_fields=["delivery_window_start", "delivery_window_end"])


class Migration(migrations.Migration):

    dependencies = [("canteens", "0002_orders_invoices_windows")]

    operations = [migrations.RunPython(copy_windows, copy_windows_back)]
