# Shared SSH credentials (issue 13 item 1).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('inventory', '0002_node_address_changed_by'),
    ]

    operations = [
        migrations.CreateModel(
            name='SharedCredential',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.SlugField(max_length=63, unique=True)),
                ('kind', models.CharField(choices=[('key', 'Private key'), ('password', 'Password')], default='key', max_length=8)),
                ('sealed', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('rotated_at', models.DateTimeField(blank=True, null=True)),
                ('rotated_by', models.CharField(blank=True, max_length=150)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='NodeCredential',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('chosen_by', models.CharField(blank=True, max_length=150)),
                ('chosen_at', models.DateTimeField(auto_now=True)),
                ('node', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='shared_credential', to='inventory.node')),
                ('credential', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='uses', to='credentials.sharedcredential')),
            ],
        ),
    ]
