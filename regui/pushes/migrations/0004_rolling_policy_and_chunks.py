# Rolling policy per push and per cluster, job chunks, failed and interrupted jobs (issue 13 items 5-9).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pushes', '0003_drift_watch'),
        ('registries', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='PushPolicy',
            fields=[
                ('cluster', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='push_policy', serialize=False, to='registries.cluster')),
                ('agents_at_once', models.CharField(blank=True, help_text='A number, or a percentage of the agents pushed (25%). Empty: REGUI_PUSH_CONCURRENCY.', max_length=8, verbose_name='Agents at once')),
                ('max_failures', models.PositiveIntegerField(blank=True, default=0, help_text='Once this many nodes failed, the push stops: the nodes not reached yet are skipped. 0: never.', verbose_name='Stop after failures')),
                ('pause_seconds', models.PositiveIntegerField(blank=True, default=0, help_text='Seconds to wait after a server or batch that restarted, before the next one.', verbose_name='Pause between batches (s)')),
                ('ready_gate', models.BooleanField(default=False, help_text='After a restart, also wait until Kubernetes reports the node Ready (kubectl on a server).', verbose_name='Wait for Ready')),
            ],
        ),
        migrations.AlterModelOptions(
            name='pushresult',
            options={'ordering': ['step', '-role', 'node_name']},
        ),
        migrations.AddField(
            model_name='pushjob',
            name='chunks_left',
            field=models.IntegerField(default=0),
        ),
        migrations.AddField(
            model_name='pushjob',
            name='files_digest',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='pushjob',
            name='origin',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='followups', to='pushes.pushjob'),
        ),
        migrations.AddField(
            model_name='pushjob',
            name='paused_until',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='pushjob',
            name='policy',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='pushjob',
            name='step',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='pushresult',
            name='chunk',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='pushresult',
            name='step',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name='pushjob',
            name='status',
            field=models.CharField(choices=[('queued', 'queued'), ('running', 'running'), ('done', 'done'), ('refused', 'refused'), ('failed', 'failed'), ('interrupted', 'interrupted')], default='queued', max_length=12),
        ),
        migrations.AlterField(
            model_name='pushresult',
            name='status',
            field=models.CharField(choices=[('pending', 'pending'), ('running', 'running'), ('unchanged', 'unchanged'), ('changed', 'changed'), ('failed', 'failed'), ('unreachable', 'unreachable'), ('skipped', 'skipped'), ('in_sync', 'in sync'), ('drifted', 'drifted'), ('interrupted', 'interrupted')], default='pending', max_length=12),
        ),
        migrations.CreateModel(
            name='PushChunk',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('index', models.PositiveIntegerField()),
                ('step', models.PositiveIntegerField()),
                ('status', models.CharField(choices=[('queued', 'queued'), ('running', 'running'), ('done', 'done'), ('interrupted', 'interrupted')], default='queued', max_length=12)),
                ('worker', models.CharField(blank=True, max_length=255)),
                ('queued_at', models.DateTimeField(auto_now_add=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='chunks', to='pushes.pushjob')),
            ],
            options={
                'ordering': ['job', 'index'],
                'constraints': [models.UniqueConstraint(fields=('job', 'index'), name='unique_push_chunk')],
            },
        ),
    ]
