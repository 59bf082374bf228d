from django.urls import path

from . import drift_watch_views

urlpatterns = [
    path("clusters/<slug:name>/drift-watch/", drift_watch_views.drift_watch_edit, name="drift-watch"),
]
