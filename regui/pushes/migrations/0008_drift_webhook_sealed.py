"""The drift watch's webhook URL is a secret: seal the plain URLs stored so far (and keep the
scheme://host[:port] pages show). The reverse opens them again for the code before this, and refuses,
changing nothing, when no key of the ring opens one."""

from django.db import migrations, models

from regui.core import crypto, sealing
from regui.pushes.drift_webhook import webhook_shown


def seal_urls(apps, schema_editor):
    DriftWatch = apps.get_model("pushes", "DriftWatch")
    for watch in DriftWatch.objects.exclude(webhook_url=""):
        # Only these two columns: an UPDATE of nothing else queues no foreign key check before the DROP.
        DriftWatch.objects.filter(pk=watch.pk).update(sealed=sealing.seal({"v": watch.webhook_url}),
                                                      webhook_shown=webhook_shown(watch.webhook_url))


def open_urls(apps, schema_editor):
    DriftWatch = apps.get_model("pushes", "DriftWatch")
    for watch in DriftWatch.objects.exclude(sealed=""):
        try:
            url = str((sealing.unseal(watch.sealed) or {"v": ""})["v"])
        except crypto.KeyringError as exc:
            raise RuntimeError(
                f"Cannot reverse pushes 0008: the webhook URL of drift watch #{watch.pk} cannot be opened ({exc}). "
                "Put the key back in REGUI_ENCRYPTION_KEYS, or remove the webhook on its drift watch page first. "
                "Nothing was changed.") from None
        DriftWatch.objects.filter(pk=watch.pk).update(webhook_url=url)


class Migration(migrations.Migration):

    dependencies = [
        ('pushes', '0007_pushjob_checked_render'),
    ]

    operations = [
        migrations.AddField(
            model_name='driftwatch',
            name='sealed',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='driftwatch',
            name='webhook_shown',
            field=models.CharField(blank=True, max_length=300, verbose_name='webhook'),
        ),
        migrations.RunPython(seal_urls, open_urls),
        migrations.RemoveField(
            model_name='driftwatch',
            name='webhook_url',
        ),
    ]
