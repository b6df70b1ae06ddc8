"""Comments of a case: pins checked against the case's images, threads and their
resolution, and blinding (a blinded reader never sees another person's comments, by the
API or the live socket)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from annotation.models import Case, Comment, Image, Project, StudyDesign
from annotation.permissions import event_visible_to
from tests.annotation.review_helpers import Review, make_review
from tests.factories import make_case


def _foreign_image(project: Project) -> Image:
    """An image of another case of the same project."""
    return Image.objects.filter(series__case=make_case(project=project)).earliest("id")


@pytest.fixture
def review(case: Case, cast: dict[str, User]) -> Review:
    return make_review(case=case, cast=cast)


def _post(client: Client, case: Case, body: dict[str, Any]) -> Any:
    return client.post(
        f"/api/cases/{case.pk}/comments", data=json.dumps(body), content_type="application/json"
    )


def _bodies(client: Client, case: Case) -> list[str]:
    return [c["body"] for c in client.get(f"/api/cases/{case.pk}/comments").json()]


@pytest.mark.django_db
def test_a_pinned_comment_is_stored_with_its_point(clients, review, cast) -> None:
    answer = _post(
        clients["reviewer"],
        review.case,
        {
            "body": "cord edge",
            "read": review.annotator.pk,
            "image": review.sagittal.pk,
            "x": 12.5,
            "y": 40,
        },
    )
    assert answer.status_code == 201, answer.content
    comment = Comment.objects.get()
    assert (comment.image_id, comment.x, comment.y, comment.read_id, comment.author) == (
        review.sagittal.pk,
        12.5,
        40.0,
        review.annotator.pk,
        cast["reviewer"],
    )
    assert answer.json()["author"] == {"id": cast["reviewer"].pk, "username": "reviewer"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pin", "field"),
    [
        ({"x": 1, "y": 1}, "image"),  # no image: a pin needs all three
        ({"x": 49, "y": 1}, "x"),  # the image is 48 columns wide
        ({"x": 1, "y": -0.5}, "y"),
    ],
)
def test_a_bad_pin_is_refused_by_field(clients, review, pin, field) -> None:
    body = {"body": "here", **pin}
    if field != "image":
        body["image"] = review.sagittal.pk
    answer = _post(clients["reviewer"], review.case, body)
    assert answer.status_code == 400
    assert field in answer.json()
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_a_pin_on_an_image_outside_the_case_names_it(clients, review, project) -> None:
    image = _foreign_image(project)
    answer = _post(
        clients["reviewer"], review.case, {"body": "x", "image": image.pk, "x": 1, "y": 1}
    )
    assert answer.status_code == 400
    assert answer.json()["image"] == [f"image {image.pk} is not an image of this case"]
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_an_empty_comment_is_refused(clients, review) -> None:
    assert _post(clients["reviewer"], review.case, {"body": "   "}).status_code == 400
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_replies_join_the_thread_root_and_its_read(clients, review) -> None:
    root = _post(clients["reviewer"], review.case, {"body": "why?", "read": review.annotator.pk})
    reply = _post(clients["annotator"], review.case, {"body": "fixed", "parent": root.json()["id"]})
    again = _post(clients["reviewer"], review.case, {"body": "ok", "parent": reply.json()["id"]})
    assert reply.status_code == again.status_code == 201
    for answer in (reply, again):
        assert answer.json()["parent"] == root.json()["id"]
        assert answer.json()["read"] == review.annotator.pk


@pytest.mark.django_db
def test_a_thread_is_resolved_by_its_author_or_a_reviewer(clients, review) -> None:
    root = _post(
        clients["annotator"], review.case, {"body": "unsure", "read": review.annotator.pk}
    ).json()
    url = f"/api/cases/{review.case.pk}/comments/{root['id']}/resolve"
    resolved = clients["annotator"].post(
        url, data={"resolved": True}, content_type="application/json"
    )
    assert resolved.status_code == 200
    assert resolved.json()["resolved"] is True
    assert resolved.json()["resolved_by"]["username"] == "annotator"
    reopened = clients["reviewer"].post(
        url, data=json.dumps({"resolved": False}), content_type="application/json"
    )
    assert reopened.json()["resolved"] is False
    assert Comment.objects.get(pk=root["id"]).resolved_at is None


@pytest.mark.django_db
def test_a_blinded_reader_sees_only_their_own_comments(clients, review) -> None:
    _post(
        clients["reviewer"],
        review.case,
        {"body": "on the annotator's", "read": review.annotator.pk},
    )
    _post(clients["reviewer"], review.case, {"body": "on the case"})
    _post(clients["annotator"], review.case, {"body": "annotator's own"})
    _post(clients["reader"], review.case, {"body": "reader's own", "read": review.reader.pk})
    _post(clients["reviewer"], review.case, {"body": "on the model", "read": review.model.pk})
    assert _bodies(clients["reader"], review.case) == ["reader's own", "on the model"]
    assert _bodies(clients["annotator"], review.case) == [
        "on the annotator's",
        "annotator's own",
        "on the model",
    ]
    assert len(_bodies(clients["lead"], review.case)) == 5
    # A blinded reader cannot reply into a thread they do not see.
    hidden = Comment.objects.get(body="on the annotator's")
    answer = _post(clients["reader"], review.case, {"body": "?", "parent": hidden.pk})
    assert answer.status_code == 404
    # Without blinding every member sees every comment.
    Project.objects.filter(pk=review.case.project_id).update(blinded=False)
    assert len(_bodies(clients["reader"], review.case)) == 5


def test_comment_events_are_filtered_like_the_comments() -> None:
    event = {"type": "comment.posted", "comment_author": 3, "read_kind": "human", "read_author": 1}
    seen = {
        (user, role, blinded): event_visible_to(
            event=event, user_id=user, role=role, blinded=blinded
        )
        for user, role, blinded in (
            (1, "annotator", True),  # the read's author
            (3, "reviewer", True),  # the comment's author
            (2, "reader", True),
            (2, "reader", False),
            (4, "lead", True),
            (2, None, False),
        )
    }
    assert seen == {
        (1, "annotator", True): True,
        (3, "reviewer", True): True,
        (2, "reader", True): False,
        (2, "reader", False): True,
        (4, "lead", True): True,
        (2, None, False): False,
    }
    on_case = {**event, "read_kind": None, "read_author": None}
    assert not event_visible_to(event=on_case, user_id=1, role="annotator", blinded=True)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_blinded_reader_socket_never_receives_others_comments(
    channel_layer, project, cast
) -> None:
    from channels.testing import WebsocketCommunicator

    from config.asgi import router

    review = await sync_to_async(make_review)(
        case=await sync_to_async(make_case)(project=project), cast=cast
    )
    sockets = {}
    for name in ("reader", "annotator"):
        client = Client()
        await sync_to_async(client.force_login)(cast[name])
        cookie = client.cookies["sessionid"].value
        headers = [
            (b"host", b"127.0.0.1"),
            (b"origin", b"http://127.0.0.1"),
            (b"cookie", f"sessionid={cookie}".encode()),
        ]
        socket = WebsocketCommunicator(router, f"/ws/cases/{review.case.pk}/", headers=headers)
        connected, _ = await socket.connect()
        assert connected
        sockets[name] = socket
    reviewer = Client()
    await sync_to_async(reviewer.force_login)(cast["reviewer"])
    answer = await sync_to_async(_post)(
        reviewer, review.case, {"body": "secret", "read": review.annotator.pk}
    )
    assert answer.status_code == 201
    mine = await sync_to_async(_post)(
        reviewer, review.case, {"body": "for all", "read": review.model.pk}
    )
    assert mine.status_code == 201
    annotator_sees = [await sockets["annotator"].receive_json_from(timeout=5) for _ in range(2)]
    assert [e["comment"]["body"] for e in annotator_sees] == ["secret", "for all"]
    # The reader gets the comment on the model's read, and never the one before it.
    first = await sockets["reader"].receive_json_from(timeout=5)
    assert (first["type"], first["comment"]["body"]) == ("comment.posted", "for all")
    assert await sockets["reader"].receive_nothing(timeout=0.3)
    for socket in sockets.values():
        await socket.disconnect()


@pytest.mark.django_db
def test_a_reader_kept_unaided_does_not_see_comments_on_the_model_read(clients, review) -> None:
    _post(clients["reviewer"], review.case, {"body": "on the model", "read": review.model.pk})
    _post(clients["reader"], review.case, {"body": "reader's own", "read": review.reader.pk})
    assert _bodies(clients["reader"], review.case) == ["on the model", "reader's own"]
    design = StudyDesign(project=review.case.project)
    design.aided = {**design.aided, "reader": False}
    design.save()
    assert _bodies(clients["reader"], review.case) == ["reader's own"]
