# Secrets belong to a cluster, or are shared by an admin with listed clusters (README, Security).

import django.db.models.deletion
from django.db import migrations, models


def share_secrets_in_use(apps, schema_editor):
    """Every cluster keeps the secrets its registries use, and nothing is deleted: a secret used by one
    cluster becomes that cluster's own, a secret used by several is shared (by no owner, so only an
    admin changes it) with each of them, and an unused one is left to the admins to give or share."""
    Secret = apps.get_model("registries", "Secret")
    RegistryConfig = apps.get_model("registries", "RegistryConfig")
    users: dict[int, set[int]] = {}
    for cluster_id, auth_id, tls_id in RegistryConfig.objects.values_list("cluster_id", "auth_secret_id",
                                                                         "tls_secret_id"):
        for secret_id in (auth_id, tls_id):
            if secret_id is not None:
                users.setdefault(secret_id, set()).add(cluster_id)
    for secret in Secret.objects.filter(pk__in=users).order_by("pk"):
        clusters = users[secret.pk]
        if secret.cluster_id is None and len(clusters) == 1:
            secret.cluster_id = next(iter(clusters))
            secret.save(update_fields=["cluster"])
        others = clusters - {secret.cluster_id}
        if others:
            secret.shared_with.add(*sorted(others))


class Migration(migrations.Migration):

    dependencies = [
        ('registries', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='secret',
            name='cluster',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='owned_secrets', to='registries.cluster'),
        ),
        migrations.AddField(
            model_name='secret',
            name='shared_with',
            field=models.ManyToManyField(blank=True, related_name='shared_secrets', to='registries.cluster'),
        ),
        migrations.RunPython(share_secrets_in_use, migrations.RunPython.noop),
    ]
