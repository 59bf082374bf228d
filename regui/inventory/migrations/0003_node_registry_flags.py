# The agent flags K3s generates hosts.toml with, per node when it differs from its cluster (regui/nodechecks).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0002_node_address_changed_by'),
    ]

    operations = [
        migrations.AddField(
            model_name='node',
            name='disable_default_registry_endpoint',
            field=models.BooleanField(blank=True, default=None, help_text="This node's setting, if it differs from the cluster's. The node's K3s config file wins.", null=True, verbose_name='--disable-default-registry-endpoint'),
        ),
        migrations.AddField(
            model_name='node',
            name='embedded_registry',
            field=models.BooleanField(blank=True, default=None, help_text="This node's setting, if it differs from the cluster's. The node's K3s config file wins.", null=True, verbose_name='--embedded-registry'),
        ),
    ]
