from django.urls import path

from . import confirm_views

urlpatterns = [
    path("clusters/<slug:name>/push/confirm/", confirm_views.push_confirm, name="push-confirm"),
]
