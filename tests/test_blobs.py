"""Photo blobs: PUT (hash, type, size), HEAD, GET access, path tricks."""

import hashlib

import pytest
from conftest import assert_problem
from sync_helpers import household_data, visit_data

JPEG = b"\xff\xd8\xff\xe0" + b"jpeg-body" * 10
PNG = b"\x89PNG\r\n\x1a\n" + b"png-body" * 10


def sha(data):
    return hashlib.sha256(data).hexdigest()


def put(client, headers, data, content_type="image/jpeg", digest=None):
    return client.put(
        f"/api/v1/blobs/{digest or sha(data)}",
        data=data,
        content_type=content_type,
        headers=headers,
    )


def test_put_201_then_200_and_file_on_disk(client, app, auth):
    h = auth.headers("worker")
    resp = put(client, h, JPEG)
    assert resp.status_code == 201
    assert resp.get_json() == {"sha256": sha(JPEG), "size": len(JPEG), "content_type": "image/jpeg"}
    assert put(client, h, JPEG).status_code == 200
    path = f"{app.config['BLOB_DIR']}/{sha(JPEG)[:2]}/{sha(JPEG)}"
    with open(path, "rb") as f:
        assert f.read() == JPEG


def test_hash_mismatch_is_400(client, auth):
    assert_problem(put(client, auth.headers("worker"), JPEG, digest=sha(PNG)), 400, "HASH_MISMATCH")


def test_body_checked_when_the_blob_is_already_stored(client, auth):
    """The hash (400), the type (415) and the size (413) are checked on a re-upload too."""
    h = auth.headers("worker")
    assert put(client, h, JPEG).status_code == 201
    assert_problem(put(client, h, JPEG + b"x", digest=sha(JPEG)), 400, "HASH_MISMATCH")
    assert_problem(put(client, h, JPEG, content_type="image/png"), 415, "UNSUPPORTED_MEDIA_TYPE")
    big = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)
    assert_problem(put(client, h, big, digest=sha(JPEG)), 413, "PAYLOAD_TOO_LARGE")
    assert put(client, auth.headers("worker2"), JPEG).status_code == 200


def test_wrong_type_or_magic_is_415(client, auth):
    h = auth.headers("worker")
    assert_problem(put(client, h, JPEG, content_type="image/gif"), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_problem(put(client, h, JPEG, content_type="image/png"), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_problem(
        put(client, h, b"plain", content_type="text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE"
    )


def test_over_10_mib_is_413(client, auth):
    data = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)
    assert_problem(put(client, auth.headers("worker"), data), 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "path",
    ["ABC", "0" * 63, "G" * 64, "A" * 64, "..%2F..%2Fetc%2Fpasswd", "0" * 65, "0" * 64 + "%0A"],
)
def test_bad_path_is_404(client, auth, path):
    resp = client.put(
        f"/api/v1/blobs/{path}",
        data=JPEG,
        content_type="image/jpeg",
        headers=auth.headers("worker"),
    )
    assert resp.status_code == 404
    assert client.get(f"/api/v1/blobs/{path}", headers=auth.headers("worker")).status_code == 404


def test_head_for_any_user_get_only_for_uploader_or_viewers(client, auth):
    put(client, auth.headers("worker"), PNG, content_type="image/png")
    assert (
        client.head(f"/api/v1/blobs/{sha(PNG)}", headers=auth.headers("worker3")).status_code == 200
    )
    assert (
        client.head(f"/api/v1/blobs/{'0' * 64}", headers=auth.headers("worker3")).status_code == 404
    )
    resp = client.get(f"/api/v1/blobs/{sha(PNG)}", headers=auth.headers("worker"))
    assert resp.status_code == 200 and resp.data == PNG and resp.mimetype == "image/png"
    assert_problem(
        client.get(f"/api/v1/blobs/{sha(PNG)}", headers=auth.headers("worker3")), 404, "NOT_FOUND"
    )
    assert_problem(
        client.get(f"/api/v1/blobs/{sha(PNG)}", headers=auth.headers("secretary")), 404, "NOT_FOUND"
    )
    # a visit referencing it makes it visible to those who can see the visit
    hid = client.post(
        "/api/v1/households", json=household_data(), headers=auth.headers("worker")
    ).get_json()["id"]
    client.post(
        "/api/v1/visits", json=visit_data(hid, photos=[sha(PNG)]), headers=auth.headers("worker")
    )
    assert (
        client.get(f"/api/v1/blobs/{sha(PNG)}", headers=auth.headers("secretary")).status_code
        == 200
    )
    assert (
        client.get(f"/api/v1/blobs/{sha(PNG)}", headers=auth.headers("worker3")).status_code == 404
    )


def test_blob_needs_a_token(client):
    assert_problem(client.get(f"/api/v1/blobs/{sha(PNG)}"), 401, "TOKEN_MISSING")
    assert client.head(f"/api/v1/blobs/{sha(PNG)}").status_code == 401


def test_photo_between_push_cap_and_blob_cap_is_accepted(client, auth):
    data = b"\xff\xd8\xff" + b"\x01" * (6 * 1024 * 1024)
    resp = put(client, auth.headers("worker"), data)
    assert resp.status_code == 201 and resp.get_json()["size"] == len(data)
