from django.urls import path

from . import views

urlpatterns = [
    path("ssh-credentials/", views.credential_list, name="ssh-credentials"),
    path("ssh-credentials/<slug:credential>/rotate/", views.credential_rotate_view, name="ssh-credential-rotate"),
    path("ssh-credentials/<slug:credential>/delete/", views.credential_delete_view, name="ssh-credential-delete"),
    path("clusters/<slug:name>/nodes/<int:pk>/credential/", views.node_credential, name="node-credential"),
]
