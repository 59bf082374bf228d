from django.contrib.auth import views as auth_views
from django.urls import include, path

from regui.core import views as core
from regui.inventory import views as inventory
from regui.pushes import views as pushes
from regui.registries.views import clusters, mirror_tools, registries_page, secrets, unsaved, yaml_view

handler400 = core.bad_request

urlpatterns = [
    path("login/", core.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", core.PasswordChangeView.as_view(), name="password-change"),
    path("healthz", core.healthz, name="healthz"),
    path("", clusters.cluster_list, name="cluster-list"),
    path("clusters/new/", clusters.cluster_create, name="cluster-create"),
    path("clusters/<slug:name>/", registries_page.registries_page, name="cluster-registries"),
    path("clusters/<slug:name>/registries/add/<slug:what>/", registries_page.registries_add, name="registries-add"),
    path("clusters/<slug:name>/registries/preview/", registries_page.registries_preview, name="registries-preview"),
    path("clusters/<slug:name>/registries/insight/", registries_page.registries_insight, name="registries-insight"),
    path("clusters/<slug:name>/registries/save/", registries_page.registries_save_view, name="registries-save"),
    path("clusters/<slug:name>/registries/unsaved/", unsaved.unsaved_offer_view, name="registries-unsaved"),
    path("clusters/<slug:name>/registries/unsaved/keep/", unsaved.unsaved_keep_view, name="registries-unsaved-keep"),
    path("clusters/<slug:name>/registries/unsaved/restore/", unsaved.unsaved_restore_view,
         name="registries-unsaved-restore"),
    path("clusters/<slug:name>/registries/unsaved/discard/", unsaved.unsaved_discard_view,
         name="registries-unsaved-discard"),
    path("clusters/<slug:name>/registries/duplicate/", mirror_tools.mirror_duplicate, name="registries-duplicate"),
    path("clusters/<slug:name>/registries/endpoints/", mirror_tools.endpoint_rows, name="registries-endpoints"),
    path("clusters/<slug:name>/registries/yaml/", yaml_view.registries_yaml, name="registries-yaml"),
    path("clusters/<slug:name>/registries/yaml/apply/", yaml_view.registries_yaml_apply, name="registries-yaml-apply"),
    path("clusters/<slug:name>/edit/", clusters.cluster_edit, name="cluster-edit"),
    path("clusters/<slug:name>/delete/", clusters.cluster_delete, name="cluster-delete"),
    path("clusters/<slug:name>/import/", clusters.cluster_import, name="cluster-import"),
    path("clusters/<slug:name>/registries.yaml", registries_page.registries_download, name="cluster-download"),
    path("clusters/<slug:name>/nodes/", inventory.node_list, name="node-list"),
    path("clusters/<slug:name>/nodes/new/", inventory.node_create, name="node-create"),
    path("clusters/<slug:name>/nodes/bulk/", inventory.node_bulk, name="node-bulk"),
    path("clusters/<slug:name>/nodes/<int:pk>/", inventory.node_detail, name="node-detail"),
    path("clusters/<slug:name>/nodes/<int:pk>/edit/", inventory.node_edit, name="node-edit"),
    path("clusters/<slug:name>/nodes/<int:pk>/delete/", inventory.node_delete, name="node-delete"),
    path("clusters/<slug:name>/nodes/<int:pk>/scan/", inventory.node_scan, name="node-scan"),
    path("clusters/<slug:name>/nodes/<int:pk>/approve/", inventory.node_approve, name="node-approve"),
    path("", include("regui.inventory.host_key_urls")),
    path("", include("regui.inventory.credentials.urls")),
    path("", include("regui.inventory.node_import_views")),
    path("clusters/<slug:name>/nodes/<int:pk>/push/", pushes.node_push, name="node-push"),
    path("clusters/<slug:name>/nodes/<int:pk>/import/", inventory.node_import, name="node-import"),
    path("clusters/<slug:name>/push/", pushes.cluster_push, name="cluster-push"),
    path("", include("regui.pushes.confirm_urls")),
    path("", include("regui.pushes.drift_watch_urls")),
    path("clusters/<slug:name>/jobs/", pushes.job_list, name="job-list"),
    path("jobs/<int:pk>/", pushes.job_detail, name="job-detail"),
    path("secrets/", secrets.secret_list, name="secret-list"),
    path("secrets/new/", secrets.secret_create, name="secret-create"),
    path("secrets/<slug:name>/", secrets.secret_edit, name="secret-edit"),
    path("secrets/<slug:name>/delete/", secrets.secret_remove, name="secret-delete"),
    path("secrets/<slug:name>/reveal/", secrets.secret_reveal, name="secret-reveal"),
    path("users/", core.user_list, name="user-list"),
    path("users/<int:pk>/", core.user_edit, name="user-edit"),
    path("", include("regui.audit.urls")),
]
