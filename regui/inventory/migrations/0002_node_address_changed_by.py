# Host keys are trusted by admins (or two people): approvals made before by anyone else are undone.

from django.db import migrations, models
from django.db.models import Q


def keep_admin_approvals_only(apps, schema_editor):
    """A key approved by someone who is not an admin now waits for an admin again: it becomes the
    node's last scan, so approving it is one click, and nothing connects to the node until then."""
    User = apps.get_model("auth", "User")
    Node = apps.get_model("inventory", "Node")
    admins = set(User.objects.filter(Q(is_superuser=True) | Q(groups__name="admin"), is_active=True)
                 .values_list("username", flat=True))
    for node in Node.objects.exclude(host_key="").exclude(host_key_approved_by__in=admins):
        node.scanned_key_type, node.scanned_key = node.host_key_type, node.host_key
        node.scanned_fingerprint, node.scanned_at = node.host_key_fingerprint, node.host_key_approved_at
        node.host_key_type = node.host_key = node.host_key_fingerprint = node.host_key_approved_by = ""
        node.host_key_approved_at = None
        node.save(update_fields=["scanned_key_type", "scanned_key", "scanned_fingerprint", "scanned_at",
                                 "host_key_type", "host_key", "host_key_fingerprint", "host_key_approved_by",
                                 "host_key_approved_at"])


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0001_initial'),
        ('core', '0001_roles'),
    ]

    operations = [
        migrations.AddField(
            model_name='node',
            name='address_changed_by',
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.RunPython(keep_admin_approvals_only, migrations.RunPython.noop),
    ]
