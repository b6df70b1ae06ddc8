"""AgreementArea and AgreementField repeat their row's group and filter columns (models.RowCopy),
filled from the rows for the parts already stored. The indexes come before the fill: on
PostgreSQL the new foreign keys' deferred checks would refuse a later ALTER in this
transaction."""

import django.db.models.deletion
from django.db import migrations, models

COPY = (
    "SET (project_id, case_id, kind, model_version_id, reference_at) = "
    "(SELECT r.project_id, r.case_id, r.kind, r.model_version_id, r.reference_at "
    "FROM dashboards_agreementrow r WHERE r.id = row_id)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0005_api_tokens"),
        ("dashboards", "0003_dashboard_counter"),
        ("inference", "0005_prelabeljob_withheld"),
    ]

    operations = [
        migrations.AddField(
            model_name="agreementarea",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="annotation.case",
            ),
        ),
        migrations.AddField(
            model_name="agreementarea",
            name="kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("model", "Model version vs gold"),
                    ("annotators", "Annotators (before review) vs gold"),
                    ("readers", "Independent readers vs gold"),
                    ("inter_reader", "Annotator vs annotator (overlap cases)"),
                ],
                default="",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="agreementarea",
            name="model_version",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="inference.modelversion",
            ),
        ),
        migrations.AddField(
            model_name="agreementarea",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="annotation.project",
            ),
        ),
        migrations.AddField(
            model_name="agreementarea",
            name="reference_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="agreementfield",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="annotation.case",
            ),
        ),
        migrations.AddField(
            model_name="agreementfield",
            name="kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("model", "Model version vs gold"),
                    ("annotators", "Annotators (before review) vs gold"),
                    ("readers", "Independent readers vs gold"),
                    ("inter_reader", "Annotator vs annotator (overlap cases)"),
                ],
                default="",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="agreementfield",
            name="model_version",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="inference.modelversion",
            ),
        ),
        migrations.AddField(
            model_name="agreementfield",
            name="project",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="annotation.project",
            ),
        ),
        migrations.AddField(
            model_name="agreementfield",
            name="reference_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="agreementarea",
            index=models.Index(
                fields=["project", "kind", "model_version"], name="agreementarea_group"
            ),
        ),
        migrations.AddIndex(
            model_name="agreementfield",
            index=models.Index(
                fields=["project", "kind", "model_version"], name="agreementfield_group"
            ),
        ),
        migrations.RunSQL("UPDATE dashboards_agreementarea " + COPY, migrations.RunSQL.noop),
        migrations.RunSQL("UPDATE dashboards_agreementfield " + COPY, migrations.RunSQL.noop),
    ]
