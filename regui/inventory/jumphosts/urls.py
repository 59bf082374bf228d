from django.urls import path

from . import views

urlpatterns = [
    path("jump-hosts/", views.jump_host_list, name="jump-hosts"),
    path("jump-hosts/new/", views.jump_host_create, name="jump-host-create"),
    path("jump-hosts/<slug:jump_host>/", views.jump_host_detail, name="jump-host-detail"),
    path("jump-hosts/<slug:jump_host>/edit/", views.jump_host_edit, name="jump-host-edit"),
    path("jump-hosts/<slug:jump_host>/delete/", views.jump_host_delete_view, name="jump-host-delete"),
    path("jump-hosts/<slug:jump_host>/scan/", views.jump_host_scan_view, name="jump-host-scan"),
    path("jump-hosts/<slug:jump_host>/approve/", views.jump_host_approve_view, name="jump-host-approve"),
    path("clusters/<slug:name>/jump-host/", views.cluster_jump_host_view, name="cluster-jump-host"),
    path("clusters/<slug:name>/nodes/<int:pk>/jump-host/", views.node_jump_host_view, name="node-jump-host"),
]
