from django.urls import path

from . import views

urlpatterns = [
    path("clusters/<slug:name>/nodes/<int:pk>/checks/", views.node_checks_view, name="node-checks"),
    path("clusters/<slug:name>/nodes/<int:pk>/checks/readback/", views.node_readback, name="node-readback"),
    path("clusters/<slug:name>/nodes/<int:pk>/checks/pull/", views.node_pull_test, name="node-pull-test"),
]
