"""Two clients saving on the same parent at the same moment: one wins, none is lost."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from annotation.models import Image, Revision

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_saves_on_one_parent_give_one_201_and_one_409(clients, cast, case) -> None:
    owner = clients["annotator"]
    # The same author in a second tab (only a read's author writes it).
    other_tab = Client()
    other_tab.force_login(cast["annotator"])
    read = owner.post(f"/api/cases/{case.pk}/reads").json()
    image = Image.objects.filter(series__case=case).earliest("id")
    url = f"/api/reads/{read['id']}/revisions"
    base = owner.post(
        url, data=json.dumps({"parent": None, "shapes": {}}), content_type="application/json"
    ).json()
    barrier = threading.Barrier(2)
    results: dict[str, tuple[int, dict[str, Any]]] = {}

    def save(name: str, client: Client, x: float) -> None:
        shape = {
            "label": "cord",
            "shape_type": "polygon",
            "points": [[x, 1.0], [x + 5, 1.0], [x + 5, 9.0]],
        }
        body = json.dumps({"parent": base["id"], "shapes": {str(image.pk): [shape]}})
        barrier.wait()
        try:
            response = client.post(url, data=body, content_type="application/json")
            results[name] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=("a", owner, 1.0)),
        threading.Thread(target=save, args=("b", other_tab, 20.0)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(code for code, _ in results.values())
    assert statuses == [201, 409], results
    loser = next(name for name, (code, _) in results.items() if code == 409)
    winner_revision = next(body for code, body in results.values() if code == 201)
    assert results[loser][1]["head"]["id"] == winner_revision["id"]

    # The loser sees the newer revision, chooses, and saves again on the new head.
    retry_client = owner if loser == "a" else other_tab
    retry = retry_client.post(
        url,
        data=json.dumps({"parent": winner_revision["id"], "shapes": {str(image.pk): []}}),
        content_type="application/json",
    )
    assert retry.status_code == 201
    numbers = list(Revision.objects.filter(read_id=read["id"]).values_list("number", flat=True))
    assert sorted(numbers) == [1, 2, 3]
    for revision_id in (base["id"], winner_revision["id"], retry.json()["id"]):
        assert owner.get(f"/api/revisions/{revision_id}").status_code == 200
