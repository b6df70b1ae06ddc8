"""Page routes: sign-in, project and case lists, the viewer, the upload page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from annotation import auth, profile, views

urlpatterns = [
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/profile/", profile.profile_view, name="profile"),
    path("", views.project_list, name="project-list"),
    path("projects/<slug:slug>/", views.case_list, name="case-list"),
    path("projects/<slug:slug>/import/", views.upload, name="upload"),
    path("projects/<slug:slug>/settings/", views.project_settings, name="project-settings"),
    path("cases/<int:case_id>/", views.case_view, name="case-view"),
    path("cases/<int:case_id>/review", views.review_view, name="case-review"),
    path("cases/<int:case_id>/history", views.history_view, name="case-history"),
]
