"""History and revisions. Entry URLs answer GET and HEAD only: entries are append-only everywhere."""

from django.urls import path

from . import views

urlpatterns = [
    path("history/", views.history, name="history"),
    path("history/export.csv", views.history_export, name="history-export"),
    path("history/<int:pk>/", views.history_entry, name="history-entry"),
    path("history/<int:pk>/object/", views.history_object, name="history-object"),
    path("clusters/<slug:name>/history/", views.cluster_history, name="cluster-history"),
    path("clusters/<slug:name>/nodes/<int:pk>/history/", views.node_history, name="node-history"),
    path("clusters/<slug:name>/nodes/<int:pk>/revision/", views.node_revision, name="node-revision"),
    path("secrets/<slug:name>/history/", views.secret_history, name="secret-history"),
    path("clusters/<slug:name>/revisions/", views.revision_list, name="cluster-revisions"),
    path("clusters/<slug:name>/revisions/compare/", views.revision_compare, name="cluster-revision-compare"),
    path("clusters/<slug:name>/revisions/<int:number>/", views.revision_detail, name="cluster-revision"),
    path("clusters/<slug:name>/revisions/<int:number>/restore/", views.revision_restore,
         name="cluster-revision-restore"),
]
