from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0001_roles")]

    operations = [
        migrations.CreateModel(
            name="WorkerBeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=255, unique=True)),
                ("broker", models.CharField(max_length=500)),
                ("queues", models.JSONField(default=list)),
                ("started_at", models.DateTimeField()),
                ("seen_at", models.DateTimeField(db_index=True)),
                ("tasks", models.JSONField(default=list)),
            ],
        ),
    ]
