from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inference", "0004_active_learning_scores"),
    ]

    operations = [
        migrations.AddField(
            model_name="prelabeljob",
            name="withheld",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
