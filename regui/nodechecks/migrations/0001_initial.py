# What regui last read of a node's live K3s configuration: hosts.toml read-backs and pull tests.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('inventory', '0003_node_registry_flags'),
        ('pushes', '0002_pushjob_request_id_pushjob_source_ip'),
    ]

    operations = [
        migrations.CreateModel(
            name='HostsReadback',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('state', models.CharField(choices=[('queued', 'queued'), ('running', 'reading'), ('agrees', 'K3s agrees'), ('differs', 'differs'), ('pending', 'restart pending'), ('failed', 'failed')], default='queued', max_length=8)),
                ('trigger', models.CharField(choices=[('push', 'after a push'), ('manual', 'on demand')], default='manual', max_length=8)),
                ('requested_by_name', models.CharField(blank=True, max_length=150)),
                ('requested_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('revision', models.PositiveIntegerField(blank=True, null=True)),
                ('flags', models.JSONField(blank=True, default=dict)),
                ('dirs', models.JSONField(blank=True, default=list)),
                ('message', models.TextField(blank=True)),
                ('job', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='pushes.pushjob')),
                ('node', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='hosts_readback', to='inventory.node')),
            ],
        ),
        migrations.CreateModel(
            name='PullTest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('image', models.CharField(max_length=512)),
                ('keep', models.BooleanField(default=False)),
                ('tool', models.CharField(choices=[('auto', 'whichever the node has (ctr first)'), ('ctr', "the distro's ctr"), ('crictl', 'crictl')], default='auto', max_length=8)),
                ('state', models.CharField(choices=[('queued', 'queued'), ('running', 'pulling'), ('done', 'done'), ('failed', 'failed')], default='queued', max_length=8)),
                ('requested_by_name', models.CharField(blank=True, max_length=150)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('used_tool', models.CharField(blank=True, max_length=8)),
                ('command', models.CharField(blank=True, max_length=300)),
                ('pulled', models.BooleanField(null=True)),
                ('served_by', models.CharField(blank=True, max_length=2000)),
                ('image_outcome', models.CharField(blank=True, max_length=16)),
                ('output', models.TextField(blank=True)),
                ('agreement', models.CharField(blank=True, max_length=8)),
                ('agreement_text', models.TextField(blank=True)),
                ('rows', models.JSONField(blank=True, default=list)),
                ('flags', models.JSONField(blank=True, default=dict)),
                ('message', models.TextField(blank=True)),
                ('node', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='pull_tests', to='inventory.node')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
    ]
