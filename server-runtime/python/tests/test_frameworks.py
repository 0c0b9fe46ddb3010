"""Real frameworks (Flask and Django from .venv) served by the real server: forms, multipart uploads,
JSON, streaming responses, cookies, redirects, errors."""

import hashlib
import json
import uuid

import pytest
from conftest import start_server


def multipart(fields: dict, file_field: str, filename: str, content: bytes):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="module", params=["flask", "django"])
def framework_server(request, tmp_path_factory):
    if request.param == "flask":
        server = start_server(
            tmp_path_factory.mktemp("flask"), app="apps.flask_app", config="APP_CALLABLE=app\n"
        )
    else:
        server = start_server(tmp_path_factory.mktemp("django"), app="apps.djangoproj.wsgi")
    server.framework = request.param
    yield server
    server.close()


def test_index(framework_server):
    status, _, body = framework_server.request("GET", "/")
    assert status == 200 and body == f"{framework_server.framework} says hi".encode()


def test_form_post(framework_server):
    status, _, body = framework_server.request(
        "POST",
        "/form",
        body=b"name=J%C3%BCrgen&tag=a&tag=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200 and json.loads(body) == {"name": "J\u00fcrgen", "tags": ["a", "b"]}


@pytest.mark.parametrize("size", [10, 300_000, 3_000_000])
def test_file_upload(framework_server, size):
    content = bytes(range(256)) * (size // 256) + b"end"
    body, content_type = multipart({"note": "hello"}, "file", "data.bin", content)
    status, _, response = framework_server.request(
        "POST", "/upload", body=body, headers={"Content-Type": content_type}
    )
    assert status == 200, response[:500]
    data = json.loads(response)
    assert data == {
        "filename": "data.bin",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "note": "hello",
    }


def test_chunked_upload(framework_server):
    sock = framework_server.raw_socket()
    payload = json.dumps({"chunked": True, "items": list(range(100))}).encode()
    wire = b"".join(
        b"%x\r\n%s\r\n" % (len(payload[i : i + 50]), payload[i : i + 50]) for i in range(0, len(payload), 50)
    )
    sock.sendall(
        b"POST /json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + wire + b"0\r\n\r\n"
    )
    from conftest import read_response

    status, _, body = read_response(sock)
    sock.close()
    assert status == 200 and json.loads(body)["received"]["items"] == list(range(100))


def test_streaming_response(framework_server):
    status, headers, body = framework_server.request("GET", "/stream")
    assert status == 200
    assert headers.get("transfer-encoding") == "chunked"
    assert body == b"".join(f"line {i}\n".encode() for i in range(5))


def test_many_keep_alive_requests(framework_server):
    conn = framework_server.connection()
    for _ in range(50):
        conn.request("GET", "/")
        assert conn.getresponse().read() == f"{framework_server.framework} says hi".encode()
    conn.close()


def test_flask_specifics(server_factory):
    server = server_factory(app="apps.flask_app", config="APP_CALLABLE=app\n")
    status, headers, body = server.request("GET", "/cookie", headers={"Cookie": "flavour=vanilla"})
    assert json.loads(body) == {"seen": "vanilla"} and "flavour=chocolate" in headers["set-cookie"]
    status, headers, _ = server.request("GET", "/old")
    assert status == 302 and headers["location"].endswith("/")
    status, _, _ = server.request("GET", "/boom")
    assert status == 500
    assert "flask route fails on purpose" in server.stderr()
    assert server.request("GET", "/")[0] == 200


def test_django_sees_host_and_query(server_factory):
    server = server_factory(app="apps.djangoproj.wsgi")
    status, _, body = server.request("GET", "/meta?q=%C3%A9t%C3%A9")
    assert json.loads(body) == {"host": f"127.0.0.1:{server.port}", "path": "/meta", "query": "\u00e9t\u00e9"}
