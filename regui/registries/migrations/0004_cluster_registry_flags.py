# The agent flags K3s generates hosts.toml with, per cluster (regui/nodechecks reads them back).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registries', '0003_unsaved_edits'),
    ]

    operations = [
        migrations.AddField(
            model_name='cluster',
            name='disable_default_registry_endpoint',
            field=models.BooleanField(default=False, help_text="The nodes run K3s with this flag: containerd tries only the mirrors' endpoints, never the registry itself.", verbose_name='--disable-default-registry-endpoint'),
        ),
        migrations.AddField(
            model_name='cluster',
            name='embedded_registry',
            field=models.BooleanField(default=False, help_text='The servers run K3s with the embedded registry (Spegel): every node tries its peers first.', verbose_name='--embedded-registry'),
        ),
    ]
