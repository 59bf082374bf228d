# "Read settings from a server": the last read of a cluster's engine settings on one of its servers.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0004_form_labels'),
        ('registries', '0007_cluster_ipv6_primary'),
        ('nodechecks', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='SettingsRead',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('node_name', models.CharField(blank=True, max_length=200)),
                ('state', models.CharField(choices=[('queued', 'queued'), ('running', 'reading'), ('done', 'read'), ('failed', 'failed')], default='queued', max_length=8)),
                ('requested_by_name', models.CharField(blank=True, max_length=150)),
                ('requested_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('found', models.JSONField(blank=True, default=dict)),
                ('cluster_ip', models.CharField(blank=True, max_length=64)),
                ('message', models.TextField(blank=True)),
                ('cluster', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='settings_read', to='registries.cluster')),
                ('node', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='inventory.node')),
            ],
        ),
    ]
