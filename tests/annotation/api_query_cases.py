"""Query-count cases of the public API (issue 15 §2): my token list, the profile page, and
GETs authenticated by a personal token (the token's lookup is a fixed cost)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from annotation.models import ApiToken, Project
from annotation.services.tokens import token_create
from annotation.tokens import secret_digest
from tests.factories import make_projects, make_users
from tests.query_counts import Endpoint


def _user_with_projects(n: int) -> tuple[Client, User, list[str]]:
    user = make_users(count=1)[0]
    projects = make_projects(count=n, members=[user], role="annotator")
    client = Client()
    client.force_login(user)
    return client, user, [p.slug for p in projects]


def token_list(n: int) -> tuple[Client, str]:
    """n tokens, each limited to two of the user's projects."""
    client, user, slugs = _user_with_projects(2)
    # Past the service's cap of live tokens: made directly (digests are unique).
    tokens = ApiToken.objects.bulk_create(
        ApiToken(user=user, name=f"t{i}", prefix="sl_test", digest=secret_digest(f"{user.pk}-{i}"))
        for i in range(n)
    )
    links = ApiToken.projects.through
    projects = list(Project.objects.filter(slug__in=slugs))
    links.objects.bulk_create(
        links(apitoken_id=token.pk, project_id=project.pk)
        for token in tokens
        for project in projects
    )
    return client, "/api/me/tokens"


def profile_page(n: int) -> tuple[Client, str]:
    client, _, _ = _user_with_projects(n)
    return client, "/accounts/profile/"


def project_list_by_token(n: int) -> tuple[Client, str]:
    """The project list seen through a token limited to n projects."""
    _, user, slugs = _user_with_projects(n)
    _, secret = token_create(user=user, name="script", projects=slugs)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}"), "/api/projects"


API_ENDPOINTS = [
    Endpoint("api-tokens", token_list, "tokens"),
    Endpoint("profile", profile_page, "memberships"),
    Endpoint("api-project-list", project_list_by_token, "projects of a limited token"),
]
