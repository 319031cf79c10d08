from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("canteens", "0003_copy_delivery_windows")]

    operations = [
        migrations.RemoveField(
            model_name='canteen',
            name='delivery_window_end',
        ),
        migrations.RemoveField(
            model_name='canteen',
            name='delivery_window_start',
        ),
    ]
