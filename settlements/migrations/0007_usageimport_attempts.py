from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("settlements", "0006_exports"),
    ]

    operations = [
        migrations.AddField(
            model_name="usageimport",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
