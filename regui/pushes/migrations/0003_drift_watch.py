
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pushes', '0002_pushjob_request_id_pushjob_source_ip'),
        ('registries', '0003_unsaved_edits'),
    ]

    operations = [
        migrations.CreateModel(
            name='DriftWatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('interval_minutes', models.PositiveIntegerField(default=0, help_text='0 turns the periodic drift check off.', verbose_name='check every (minutes)')),
                ('webhook_url', models.URLField(blank=True, help_text="Receives a JSON POST when a node's state changes.", max_length=500, verbose_name='webhook URL')),
                ('email_recipients', models.TextField(blank=True, help_text='Addresses, separated by commas or new lines.', verbose_name='email to')),
                ('last_started_at', models.DateTimeField(blank=True, null=True)),
                ('collected_job_id', models.BigIntegerField(blank=True, null=True)),
                ('node_states', models.JSONField(blank=True, default=dict)),
                ('cluster', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='drift_watch', to='registries.cluster')),
                ('last_job', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='pushes.pushjob')),
            ],
        ),
    ]
