from django.urls import path

from . import host_key_views

urlpatterns = [
    path("clusters/<slug:name>/nodes/host-keys/", host_key_views.host_keys, name="host-keys"),
    path("clusters/<slug:name>/nodes/host-keys/scan/", host_key_views.host_keys_scan, name="host-keys-scan"),
    path("clusters/<slug:name>/nodes/host-keys/approve/", host_key_views.host_keys_approve, name="host-keys-approve"),
]
