"""The TF-Serving-style REST server: routes, every error case, hot version pick-up, a real
waitress server under concurrent clients, and `keras-gan serve`."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from keras_gan.serving import Client, Limits, Sampler, ServingApp, ServingError, make_app
from keras_gan.serving.latent import latent
from keras_gan.serving.server import ModelSource, create_server

from tests._serving_export import IMAGE_SHAPE, LATENT_DIM, tiny_exports

VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


@pytest.fixture(scope="module")
def exports(pytestconfig, tmp_path_factory) -> Path:
    return tiny_exports(pytestconfig, tmp_path_factory)


@pytest.fixture(scope="module")
def app(exports) -> ServingApp:
    return make_app(exports / "base", name="gen", limits=Limits(max_body_bytes=4096, max_batch=8))


@pytest.fixture(scope="module")
def sampler(exports) -> Sampler:
    return Sampler(exports / "base")


def call(app, method: str, path: str, body: bytes | str | dict | None = None, **environ):
    """Call the WSGI app in-process; returns (status code, decoded JSON body)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    body = body or b""
    captured = {}

    def start_response(status, headers):
        captured["status"], captured["headers"] = status, dict(headers)

    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **environ,
    }
    raw = b"".join(app(env, start_response))
    assert captured["headers"]["Content-Type"] == "application/json"
    if "Content-Length" in captured["headers"]:  # absent from streamed (chunked) replies
        assert int(captured["headers"]["Content-Length"]) == len(raw)
    return int(captured["status"].split()[0]), json.loads(raw)


@contextlib.contextmanager
def running(app, threads: int = 8):
    """A real waitress server on a free port of 127.0.0.1, in a thread."""
    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    stop = threading.Event()

    def loop() -> None:
        # server.run() has no stop; the same asyncore loop, one poll at a time, does.
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        server.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(5)
        server.task_dispatcher.shutdown()


def http(url: str, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


# -- routes ------------------------------------------------------------------------------------


def test_status_and_metadata(app):
    status, body = call(app, "GET", "/v1/models/gen")
    assert status == 200
    assert body == {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }
    assert call(app, "GET", "/v1/models/gen/versions/1") == (200, body)
    status, meta = call(app, "GET", "/v1/models/gen/metadata")
    assert status == 200
    assert meta["model_spec"] == {"name": "gen", "signature_name": "", "version": "1"}
    signatures = meta["metadata"]["signature_def"]["signature_def"]
    z = signatures["serving_default"]["inputs"]["z"]
    assert z["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in z["tensor_shape"]["dim"]] == ["-1", str(LATENT_DIM)]
    images = signatures["sample"]["outputs"]["images"]
    assert images["dtype"] == "DT_UINT8"
    assert [int(d["size"]) for d in images["tensor_shape"]["dim"]] == [-1, *IMAGE_SHAPE]
    assert signatures["sample"]["inputs"]["n"]["dtype"] == "DT_INT32"
    assert signatures["sample"]["inputs"]["seed"]["dtype"] == "DT_INT64"
    assert {s["method_name"] for s in signatures.values()} == {"tensorflow/serving/predict"}
    assert call(app, "GET", "/v1/models/gen/versions/1/metadata")[1] == meta


def test_predict_row_and_columnar_formats(app, sampler):
    z = latent(3, 11, LATENT_DIM)
    expected = sampler.generate(z)
    status, rows = call(app, "POST", "/v1/models/gen:predict", {"instances": z.tolist()})
    assert status == 200 and set(rows) == {"predictions"}
    np.testing.assert_array_equal(np.asarray(rows["predictions"], np.float32), expected)
    objects = {"instances": [{"z": row} for row in z.tolist()]}
    assert call(app, "POST", "/v1/models/gen:predict", objects) == (200, rows)
    status, columns = call(
        app, "POST", "/v1/models/gen/versions/1:predict", {"inputs": {"z": z.tolist()}}
    )
    assert status == 200 and set(columns) == {"outputs"}
    np.testing.assert_array_equal(np.asarray(columns["outputs"], np.float32), expected)
    bare = {"signature_name": "serving_default", "inputs": z.tolist()}
    assert call(app, "POST", "/v1/models/gen:predict", bare) == (200, columns)
    sample = {"signature_name": "sample", "inputs": {"n": 5, "seed": -7}}
    status, body = call(app, "POST", "/v1/models/gen:predict", sample)
    assert status == 200
    np.testing.assert_array_equal(np.asarray(body["outputs"], np.uint8), sampler.sample(5, -7))
    assert all(isinstance(v, int) for v in np.ravel(body["outputs"]).tolist())


ERRORS = [
    # (method, path, body, status, message fragment)
    ("POST", "/v1/models/gen:predict", "{not json", 400, "Malformed JSON request body"),
    ("POST", "/v1/models/gen:predict", "", 400, "Empty request body"),
    ("POST", "/v1/models/gen:predict", "[1, 2]", 400, "must be a JSON object. Received: list"),
    (
        "POST",
        "/v1/models/gen:predict",
        {"signature_name": "sample"},
        400,
        "Missing 'inputs' or 'instances' key",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"instances": [[0] * 4], "inputs": [[0] * 4]},
        400,
        "not both",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"instances": [[0.0] * 3]},
        400,
        "z must have shape [N, 4] with N >= 1. Received: shape [1, 3]",
    ),
    ("POST", "/v1/models/gen:predict", {"inputs": {"z": [0.0] * 4}}, 400, "Received: shape [4]"),
    ("POST", "/v1/models/gen:predict", {"instances": [[0, 0, 0, 0], [0, 0]]}, 400, "rectangular"),
    (
        "POST",
        "/v1/models/gen:predict",
        {"instances": [["a", "b", "c", "d"]]},
        400,
        "z must hold numbers (DT_FLOAT). Received values of type string",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"instances": [[True, False, True, False]]},
        400,
        "values of type boolean",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        '{"instances": [[0, NaN, 0, 0]]}',
        400,
        "NaN or infinity in z",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        '{"inputs": {"z": [[0, 0, Infinity, 0]]}}',
        400,
        "NaN or infinity in z",
    ),
    ("POST", "/v1/models/gen:predict", {"instances": []}, 400, "non-empty list"),
    (
        "POST",
        "/v1/models/gen:predict",
        {"inputs": {"x": [[0] * 4]}},
        400,
        "takes the input 'z' only. Received inputs: ['x']",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"instances": [{"z": [0] * 4}, [0] * 4]},
        400,
        "mixes objects and plain values",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"signature_name": "nope", "inputs": [[0] * 4]},
        400,
        'Serving signature name: "nope" not found in signature def',
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"signature_name": "sample", "inputs": {"n": 0, "seed": 1}},
        400,
        "n must be a positive integer. Received: n=0",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"signature_name": "sample", "inputs": {"n": -3, "seed": 1}},
        400,
        "n must be a positive integer. Received: n=-3",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"signature_name": "sample", "inputs": {"n": 9, "seed": 1}},
        413,
        "n=9 exceeds the limit of 8 samples per request",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"signature_name": "sample", "inputs": {"n": 2}},
        400,
        "Missing: ['seed']",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"signature_name": "sample", "inputs": {"n": 2.5, "seed": 1}},
        400,
        "n must be a scalar integer (int32). Received: 2.5",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"signature_name": "sample", "inputs": {"n": 2, "seed": 2**63}},
        400,
        "seed must fit in int64",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"signature_name": "sample", "instances": [{"n": 2, "seed": 1}]},
        400,
        "send the columnar format",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"instances": [[0.0] * 4] * 9},
        413,
        "Batch of 9 exceeds the limit of 8 per request",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        {"inputs": {"z": [[0.0] * 4] * 9}},
        413,
        "Batch of 9 exceeds the limit of 8",
    ),
    (
        "POST",
        "/v1/models/gen:predict",
        "{" + " " * 5000 + "}",
        413,
        "Request body of 5002 bytes exceeds the limit of 4096 bytes",
    ),
    (
        "POST",
        "/v1/models/nope:predict",
        {"instances": [[0] * 4]},
        404,
        "Servable not found for request: Latest(nope)",
    ),
    ("GET", "/v1/models/nope", None, 404, "Servable not found for request: Latest(nope)"),
    (
        "POST",
        "/v1/models/gen/versions/2:predict",
        {"instances": [[0] * 4]},
        404,
        "Servable not found for request: Specific(gen, 2)",
    ),
    ("GET", "/v1/models/gen/versions/7", None, 404, "Specific(gen, 7)"),
    ("GET", "/v1/models/gen/versions/7/metadata", None, 404, "Specific(gen, 7)"),
    ("GET", "/v1/models/gen/versions/x1", None, 400, "Invalid version 'x1'"),
    ("POST", "/v1/models/..:predict", {"instances": [[0] * 4]}, 400, "Invalid model name '..'"),
    ("GET", "/v1/models/../../etc/passwd", None, 400, "Invalid model name '../../etc/passwd'"),
    ("GET", "/v1/models/..%2Fetc", None, 400, "Invalid model name"),
    ("GET", "/v1/models/a\\b", None, 400, "Invalid model name 'a\\\\b'"),
    ("GET", "/v1/models/.hidden", None, 400, "Invalid model name '.hidden'"),
    ("GET", "/v1/models/gen:predict", None, 405, "accepts POST only. Received: GET"),
    ("POST", "/v1/models/gen", {}, 405, "accepts GET only. Received: POST"),
    ("POST", "/v1/models/gen:classify", {}, 400, "classify is not supported"),
    ("GET", "/v2/health", None, 404, "Malformed request: GET /v2/health"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), ERRORS)
def test_error_cases(app, method, path, body, status, message):
    got_status, got = call(app, method, path, body)
    assert (got_status, list(got)) == (status, ["error"]), got
    assert message in got["error"]


def test_a_failing_runtime_answers_500_and_keeps_serving(exports, capsys):
    class Broken(Sampler):
        """Fails on batches of 3 rows only, so it passes the two-row warm-up."""

        def generate(self, z, batch_size=None):
            if len(z) == 3:
                raise RuntimeError("onnxruntime exploded")
            return super().generate(z, batch_size)

    source = ModelSource("gen", exports / "base", sampler_factory=Broken, poll=False)
    app = ServingApp({"gen": source}, log=sys.stderr)
    capsys.readouterr()
    status, body = call(app, "POST", "/v1/models/gen:predict", {"instances": [[0] * 4] * 3})
    assert status == 500 and "RuntimeError: onnxruntime exploded" in body["error"]
    logged = capsys.readouterr().err.splitlines()
    assert len(logged) == 1 and "onnxruntime exploded" in logged[0], logged  # no traceback
    assert "POST /v1/models/gen:predict" in logged[0]
    assert call(app, "GET", "/v1/models/gen")[0] == 200
    assert call(app, "POST", "/v1/models/gen:predict", {"instances": [[0] * 4] * 2})[0] == 200


# -- versions ----------------------------------------------------------------------------------


def test_new_version_is_picked_up_while_serving(exports, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(exports / "base" / "1", models / "1")
    app = make_app(models, name="gen", poll_seconds=0.05)
    z = latent(2, 0, LATENT_DIM).tolist()
    old = Sampler(exports / "base").generate(np.asarray(z))
    new = Sampler(exports / "spare").generate(np.asarray(z))
    assert not np.allclose(old, new)
    with running(app) as url:
        client = Client(url, "gen")
        np.testing.assert_array_equal(client.generate(np.asarray(z)), old)
        # An export in progress (hidden name) and a version without model.onnx are ignored.
        shutil.copytree(exports / "spare" / "1", models / ".tmp-2-x")
        (models / "3").mkdir()
        time.sleep(0.2)
        assert client.status()[0]["version"] == "1"
        os.replace(models / ".tmp-2-x", models / "2")  # what keras_gan.export does
        deadline = time.monotonic() + 10
        while client.status()[0]["version"] != "2":
            assert time.monotonic() < deadline, "version 2 was not picked up"
            time.sleep(0.05)
        np.testing.assert_array_equal(client.generate(np.asarray(z)), new)
        assert client.metadata()["model_spec"]["version"] == "2"
        with pytest.raises(ServingError, match=r"HTTP 404: .*Specific\(gen, 1\)"):
            Client(url, "gen", version=1).status()
        # A broken newer version is reported and the served one stays.
        (models / "4").mkdir()
        (models / "4" / "model.onnx").write_bytes(b"garbage")
        deadline = time.monotonic() + 10
        while len(client.status()) < 2:
            assert time.monotonic() < deadline, "the failed load of version 4 was not reported"
            time.sleep(0.05)
        served, failed = client.status()
        assert served["version"] == "2" and served["state"] == "AVAILABLE"
        assert failed["version"] == "4" and failed["state"] == "END"
        assert "onnxruntime cannot load" in failed["status"]["error_message"]
        np.testing.assert_array_equal(client.generate(np.asarray(z)), new)
        # Removing the served version falls back to the highest one left.
        shutil.rmtree(models / "4")
        shutil.rmtree(models / "2")
        deadline = time.monotonic() + 10
        while client.status()[0]["version"] != "1":
            assert time.monotonic() < deadline, "did not fall back to version 1"
            time.sleep(0.05)
        assert [entry["version"] for entry in client.status()] == ["1"]  # 4 is forgotten
        np.testing.assert_array_equal(client.generate(np.asarray(z)), old)


# -- a real server ---------------------------------------------------------------------------


def test_real_server_json_errors_from_waitress_and_app(app):
    with running(app) as url:
        status, headers, body = http(f"{url}/v1/models/gen")
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert body["model_version_status"][0]["version"] == "1"
        # Over the limit by Content-Length: refused by waitress before the body is read.
        status, headers, body = http(f"{url}/v1/models/gen:predict", b"{" + b" " * 6000 + b"}")
        assert status == 413 and headers["Content-Type"] == "application/json"
        assert body == {"error": "Request body exceeds the limit of 4096 bytes."}
        # Chunked transfer without Content-Length.
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), 10) as sock:
            chunk = b" " * 5000
            sock.sendall(
                b"POST /v1/models/gen:predict HTTP/1.1\r\nHost: x\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
                + f"{len(chunk):x}\r\n".encode()
                + chunk
                + b"\r\n0\r\n\r\n"
            )
            answer = b""
            while data := sock.recv(65536):  # the server closes after an error
                answer += data
            answer = answer.decode()
        assert answer.startswith("HTTP/1.1 413") and "Content-Type: application/json" in answer
        assert answer.endswith('{"error": "Request body exceeds the limit of 4096 bytes."}')
        status, _, body = http(f"{url}/v1/models/gen:predict", b"{oops")
        assert status == 400 and "Malformed JSON" in body["error"]
        status, _, body = http(f"{url}/v1/models/..%2F..%2Fetc:predict", b"{}")
        assert status == 400 and "Invalid model name" in body["error"]


def test_concurrent_clients_get_correct_answers(app, sampler):
    expected = {seed: sampler.sample(4, seed) for seed in range(8)}
    z = latent(8, 3, LATENT_DIM)
    generated = sampler.generate(z)
    with running(app, threads=8) as url:
        client = Client(url, "gen")

        def one(i: int) -> bool:
            if i % 3 == 0:
                return np.array_equal(client.generate(z, row_format=i % 2 == 0), generated)
            if i % 3 == 1:
                seed = i % 8
                return np.array_equal(client.sample(4, seed), expected[seed])
            try:
                client.predict({"signature_name": "sample", "inputs": {"n": 0, "seed": 0}})
            except ServingError as error:
                return error.status == 400
            return False

        with ThreadPoolExecutor(32) as pool:
            results = list(pool.map(one, range(600)))
    assert all(results), f"{results.count(False)} of {len(results)} requests failed"


def test_cli_serve_subprocess(exports, tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [str(VENV_BIN / "keras-gan"), "serve", "--model-base-path", str(exports / "base")]
    process = subprocess.Popen(
        [*command, "--model-name", "tiny", "--port", "0", "--max-batch", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = []
        while not lines or not lines[-1].startswith("listening on"):
            line = process.stdout.readline()
            assert line, f"server exited: {process.stderr.read()}"
            lines.append(line.strip())
        assert (
            lines[0] == f"serving model 'tiny' version 1 ({exports / 'base' / '1' / 'model.onnx'})"
        )
        url = lines[-1].split()[2]
        assert url.startswith("http://127.0.0.1:")
        client = Client(url, "tiny")
        assert client.wait_until_available(timeout=10) == "1"
        assert client.latent_dim == LATENT_DIM
        np.testing.assert_array_equal(
            client.sample(3, seed=9), Sampler(exports / "base").sample(3, seed=9)
        )
        with pytest.raises(ServingError, match="HTTP 413: n=5 exceeds the limit of 4"):
            client.sample(5, seed=0)
    finally:
        process.terminate()
        process.wait(10)


def test_serve_imports_neither_tensorflow_nor_keras(exports):
    code = f"""
import sys
from keras_gan.cli import build_parser
from keras_gan.serving import make_app, Client
from keras_gan.serving.server import create_server
import threading
app = make_app({str(exports / "base")!r}, name="g")
server = create_server(app, port=0)
threading.Thread(target=server.run, daemon=True).start()
client = Client(f"http://127.0.0.1:{{server.effective_port}}", "g")
client.sample(2, seed=0)
build_parser()
print("HEAVY", sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model-base-path", "MISSING"], "No servable version under MISSING"),
        (["--model-base-path", "BASE", "--model-name", "../x"], "Invalid model name '../x'"),
        (["--model-base-path", "BASE", "--max-batch", "0"], "--max-batch must be a positive"),
        (["--model-base-path", "BASE", "--port", "70000"], "--port must be 0..65535"),
    ],
)
def test_cli_serve_errors(exports, args, message, capsys):
    from keras_gan.cli import main

    args = [str(exports / "base") if a == "BASE" else a for a in args]
    assert main(["serve", *args]) == 2
    assert f"keras-gan serve: error: {message}" in capsys.readouterr().err


def test_missing_waitress_names_the_extra(app, monkeypatch):
    monkeypatch.setitem(sys.modules, "waitress", None)
    with pytest.raises(ImportError, match=r"pip install 'keras-gan\[serve\]'"):
        create_server(app, port=0)
