from django.urls import path

from . import server_settings_views, views

urlpatterns = [
    path("clusters/<slug:name>/nodes/<int:pk>/checks/", views.node_checks_view, name="node-checks"),
    path("clusters/<slug:name>/nodes/<int:pk>/checks/readback/", views.node_readback, name="node-readback"),
    path("clusters/<slug:name>/nodes/<int:pk>/checks/pull/", views.node_pull_test, name="node-pull-test"),
    path("clusters/<slug:name>/server-settings/", server_settings_views.server_settings_section,
         name="server-settings"),
    path("clusters/<slug:name>/server-settings/read/", server_settings_views.server_settings_read,
         name="server-settings-read"),
    path("clusters/<slug:name>/server-settings/apply/", server_settings_views.server_settings_apply,
         name="server-settings-apply"),
]
