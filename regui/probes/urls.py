from django.urls import path

from . import views

urlpatterns = [
    path("clusters/<slug:name>/registries/test/", views.registry_test_panel, name="registry-test-panel"),
    path("clusters/<slug:name>/registries/test/start/", views.registry_test_start, name="registry-test-start"),
    path("registry-tests/<int:pk>/", views.registry_test_detail, name="registry-test-detail"),
]
