"""The server under hostile or careless use: request, reply and memory limits, versions that
load but are broken, versions replaced under the same number, long integers, echoes, paths and
retries. Real exports, real onnxruntime, a real waitress server on 127.0.0.1."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from keras_gan.serving import Client, Limits, Sampler, ServingApp, ServingError
from keras_gan.serving.latent import latent
from keras_gan.serving.server import (
    REQUEST_MEMORY_MIB,
    ArrayReply,
    ModelSource,
    make_app,
    reply_bytes_bound,
    validate_sampler,
)

from tests._serving_export import IMAGE_SHAPE, LATENT_DIM, tiny_exports
from tests.serving.test_server import VENV_BIN, call, http, running


@pytest.fixture(scope="module")
def exports(pytestconfig, tmp_path_factory) -> Path:
    return tiny_exports(pytestconfig, tmp_path_factory)


def wait_for(condition, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def edit_onnx(directory: Path, metadata: dict | None = None, nan_weights: bool = False) -> None:
    """Rewrite a version's model.onnx in place: metadata fields changed, or NaN weights."""
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    path = directory / "model.onnx"
    model = onnx.load(str(path))
    if metadata:
        for prop in model.metadata_props:
            if prop.key == "keras_gan":
                prop.value = json.dumps({**json.loads(prop.value), **metadata})
        asset = directory / "assets" / "keras_gan.json"
        asset.write_text(json.dumps({**json.loads(asset.read_text()), **metadata}))
    if nan_weights:
        for initializer in model.graph.initializer:
            values = numpy_helper.to_array(initializer)
            if values.dtype == np.float32 and values.size > 8:
                initializer.CopyFrom(
                    numpy_helper.from_array(np.full_like(values, np.nan), initializer.name)
                )
    onnx.save(model, str(path))


def version_copy(exports: Path, which: str, target: Path) -> Path:
    shutil.copytree(exports / which / "1", target)
    return target


def vm_hwm_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


# -- 6: memory: body, rows and reply limits before the work; streamed replies ------------------


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/<pid>/status")
def test_hostile_bodies_are_refused_before_parsing_within_the_memory_bound(exports):
    """A 16 MiB body of `[],[],...` used to add ~430 MB to the server's peak before its 413."""
    process = subprocess.Popen(
        [
            *(str(VENV_BIN / "keras-gan"), "serve", "--model-base-path", str(exports / "base")),
            *("--model-name", "g", "--port", "0", "--threads", "8"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = ""
        while not line.startswith("listening on"):
            line = process.stdout.readline()
            assert line, process.stderr.read()
        url = line.split()[2]
        client = Client(url, "g")
        client.sample(8, seed=0)  # warm: onnxruntime's arena, waitress's threads
        before = vm_hwm_mib(process.pid)
        limit = 16 * 2**20
        hostile = {
            "lists": b'{"instances": [' + b"[]," * ((limit - 40) // 3) + b"[]]}",
            "string": b'{"signature_name": "' + b"a" * (limit - 40) + b'"}',
            "quotes": b'{"instances": [' + b'"" ' * ((limit - 40) // 3) + b"]}",
            "utf8": b'{"signature_name": "' + "\U0001f600".encode() * ((limit - 40) // 4) + b'"}',
        }
        expected = {
            "lists": (413, "JSON values"),
            "string": (400, "A string of"),
            "quotes": (413, "quotes"),
            "utf8": (400, "non-ASCII"),
        }

        def send(kind: str) -> tuple[str, int, str]:
            status, _, body = http(f"{url}/v1/models/g:predict", hostile[kind])
            return kind, status, body["error"]

        # 8 concurrent clients, each hostile body twice.
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(send, [*hostile, *hostile, *hostile, *hostile]))
        for kind, status, message in results:
            assert (status, expected[kind][1] in message) == (expected[kind][0], True), message
            assert len(message) < 300
        grown = vm_hwm_mib(process.pid) - before
        print(f"peak memory grew by {grown:.1f} MiB under 8 concurrent hostile clients")
        assert grown <= 8 * REQUEST_MEMORY_MIB, f"peak memory grew by {grown:.0f} MiB"
        # The largest allowed requests still work, and the server is unharmed.
        z = latent(1024, 5, LATENT_DIM)
        np.testing.assert_array_equal(client.generate(z), Sampler(exports / "base").generate(z))
        assert client.sample(1024, seed=1).shape == (1024, *IMAGE_SHAPE)
    finally:
        process.terminate()
        stderr = process.communicate(timeout=10)[1]
    assert "Traceback" not in stderr, stderr


def test_row_limit_is_checked_before_parsing(exports):
    app = make_app(exports / "base", name="g", limits=Limits(max_batch=8))
    # 9 rows of z: refused by counting, with the count and the limit in the message.
    z = json.dumps({"instances": [[0.5] * LATENT_DIM] * 100})
    status, body = call(app, "POST", "/v1/models/g:predict", z)
    assert status == 413 and f"at most {8 * (LATENT_DIM + 4) + 64} fit 8 rows" in body["error"]
    app.close()


def test_large_replies_are_streamed_and_the_reply_size_is_limited(exports):
    sampler = Sampler(exports / "base")
    limits = Limits(max_batch=4096, max_reply_bytes=reply_bytes_bound(3000, IMAGE_SHAPE, "float32"))
    app = make_app(exports / "base", name="g", limits=limits)
    with running(app) as url:
        # Over one block: streamed in chunks, no Content-Length, the same JSON as before.
        request = urllib.request.Request(
            f"{url}/v1/models/g:predict",
            json.dumps({"signature_name": "sample", "inputs": {"n": 3000, "seed": 4}}).encode(),
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.headers["Transfer-Encoding"] == "chunked"
            assert response.headers["Content-Length"] is None
            raw = response.read()
        expected = sampler.sample(3000, seed=4)
        assert raw == json.dumps({"outputs": expected.tolist()}, separators=(",", ":")).encode()
        # The bound is an upper bound of the real size.
        z = latent(3000, 2, LATENT_DIM)
        status, headers, body = http(
            f"{url}/v1/models/g:predict", json.dumps({"instances": z.tolist()}).encode()
        )
        assert status == 200 and headers["Transfer-Encoding"] == "chunked"
        np.testing.assert_array_equal(
            np.asarray(body["predictions"], np.float32), sampler.generate(z)
        )
        text = json.dumps(body, separators=(",", ":"))
        assert len(text) <= reply_bytes_bound(3000, IMAGE_SHAPE, np.float32)
        # One row more than fits: 413 before the work, saying how many rows fit.
        status, _, body = http(
            f"{url}/v1/models/g:predict",
            json.dumps({"instances": latent(3001, 2, LATENT_DIM).tolist()}).encode(),
        )
        assert status == 413 and "request at most 3000 rows" in body["error"], body
        # Small replies keep their Content-Length.
        status, headers, _ = http(
            f"{url}/v1/models/g:predict",
            json.dumps({"signature_name": "sample", "inputs": {"n": 2, "seed": 0}}).encode(),
        )
        assert status == 200 and headers["Content-Length"] is not None
    app.close()


def test_array_reply_blocks_equal_one_dump():
    array = np.random.default_rng(0).normal(size=(37, 3, 2)).astype(np.float32)
    reply = ArrayReply("predictions", array, block_values=10)
    chunks = list(reply.chunks())
    assert len(chunks) == 2 + 37
    expected = json.dumps({"predictions": array.tolist()}, separators=(",", ":")).encode()
    assert b"".join(chunks) == expected


# -- 7: a version that loads but is broken never becomes AVAILABLE ------------------------------


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"metadata": {"image_shape": [9, 9, 1]}}, "image_shape [9, 9, 1] differs from"),
        ({"metadata": {"image_shape": [4, 16, 1]}}, "image_shape [4, 16, 1] differs from"),
        ({"metadata": {"sample_dtype": "float16"}}, "sample_dtype is float16"),
        ({"metadata": {"sample_dtype": "pixels"}}, "sample_dtype is not a dtype"),
        ({"nan_weights": True}, "warm-up returned NaN"),
    ],
)
def test_a_broken_version_is_never_served(exports, tmp_path, damage, message):
    models = tmp_path / "models"
    version_copy(exports, "base", models / "1")
    app = make_app(models, name="g", poll_seconds=0.02)
    z = latent(3, 0, LATENT_DIM)
    good = Sampler(exports / "base").generate(z)
    with running(app) as url:
        client = Client(url, "g")
        broken = version_copy(exports, "spare", tmp_path / "staging")
        edit_onnx(broken, **damage)
        Sampler(broken)  # it loads: only validation can tell
        os.replace(broken, models / "2")
        wait_for(lambda: len(client.status()) == 2, "the failure of version 2 in the status")
        served, failed = client.status()
        assert (served["version"], served["state"]) == ("1", "AVAILABLE")
        assert (failed["version"], failed["state"]) == ("2", "END")
        assert message in failed["status"]["error_message"]
        np.testing.assert_array_equal(client.generate(z), good)
        assert client.sample(2, seed=0).shape == (2, *IMAGE_SHAPE)
        with pytest.raises(ServingError, match=r"HTTP 404: .*Specific\(g, 2\)"):
            Client(url, "g", version=2).generate(z)
    app.close()


def test_validate_sampler_accepts_a_good_export(exports):
    validate_sampler(Sampler(exports / "base"))  # raises otherwise


# -- 8: a version replaced under the same number is reloaded -----------------------------------


def test_a_version_replaced_under_the_same_number_is_reloaded(exports, tmp_path):
    models = tmp_path / "models"
    version_copy(exports, "base", models / "1")
    app = make_app(models, name="g", poll_seconds=0.02)
    z = latent(2, 1, LATENT_DIM)
    base, spare = Sampler(exports / "base").generate(z), Sampler(exports / "spare").generate(z)
    with running(app) as url:
        client = Client(url, "g")
        np.testing.assert_array_equal(client.generate(z), base)
        _, _, first = http(f"{url}/v1/models/g/load_status")
        (entry,) = first["versions"]
        assert entry["version"] == "1" and entry["state"] == "AVAILABLE"
        assert len(entry["sha256"]) == 64 and entry["loaded_at"].endswith("Z")

        def sha() -> str:
            return http(f"{url}/v1/models/g/load_status")[2]["versions"][0]["sha256"]

        # Same content under a new identity (copied again): noticed, hashed, not reloaded.
        identity = app.models["g"].served.identity
        version_copy(exports, "base", tmp_path / "same")
        os.rename(models / "1", tmp_path / "old")
        os.rename(tmp_path / "same", models / "1")
        wait_for(lambda: app.models["g"].served.identity != identity, "the new identity")
        assert http(f"{url}/v1/models/g/load_status")[2] == first
        # The directory replaced by other weights under the same number: reloaded and swapped.
        version_copy(exports, "spare", tmp_path / "new")
        os.rename(models / "1", tmp_path / "old2")
        os.rename(tmp_path / "new", models / "1")
        wait_for(lambda: sha() != entry["sha256"], "the replaced version 1 to be reloaded")
        np.testing.assert_array_equal(client.generate(z), spare)
        (reloaded,) = http(f"{url}/v1/models/g/load_status")[2]["versions"]
        assert reloaded["loaded_at"] > entry["loaded_at"]
        assert client.status()[0]["status"] == {"error_code": "OK", "error_message": ""}
        # model.onnx rewritten in place with the first weights: reloaded as well.
        replaced = sha()
        shutil.copyfile(exports / "base" / "1" / "model.onnx", models / "1" / "model.onnx")
        wait_for(lambda: sha() != replaced, "model.onnx rewritten in place")
        rewritten = sha()
        np.testing.assert_array_equal(client.generate(z), base)
        # Broken files under the served number: the validated version keeps serving.
        broken = version_copy(exports, "spare", tmp_path / "broken")
        edit_onnx(broken, metadata={"image_shape": [9, 9, 1]})
        os.rename(models / "1", tmp_path / "old3")
        os.rename(broken, models / "1")
        wait_for(lambda: client.status()[0]["status"]["error_message"], "the failure reported")
        (served,) = client.status()
        assert (
            served["state"] == "AVAILABLE"
            and "image_shape [9, 9, 1]" in (served["status"]["error_message"])
        )
        np.testing.assert_array_equal(client.generate(z), base)
        available, failed = http(f"{url}/v1/models/g/load_status")[2]["versions"]
        assert available["sha256"] == rewritten and failed["state"] == "FAILED"
        # The validated files put back: the failure is forgotten.
        os.rename(models / "1", tmp_path / "broken-again")
        os.rename(tmp_path / "old3", models / "1")
        wait_for(lambda: not client.status()[0]["status"]["error_message"], "the failure cleared")
        assert [e["state"] for e in http(f"{url}/v1/models/g/load_status")[2]["versions"]] == [
            "AVAILABLE"
        ]
    app.close()


# -- 9: long integers give 400 and one log line at most -----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"instances": [[' + "9" * 5000 + ", 0, 0, 0]]}",
        '{"inputs": {"z": [[0, 0, 0, -' + "1" * 5000 + "]]}}",
        '{"signature_name": "sample", "inputs": {"n": ' + "7" * 5000 + ', "seed": 1}}',
        '{"signature_name": "sample", "inputs": {"n": 1, "seed": ' + "7" * 5000 + "}}",
    ],
)
def test_a_5000_digit_integer_gives_400_and_no_traceback(exports, body):
    log = io.StringIO()
    source = ModelSource("g", exports / "base", poll=False)
    app = ServingApp({"g": source}, log=log)
    with running(app) as url:
        status, headers, answer = http(f"{url}/v1/models/g:predict", body.encode())
    assert status == 400 and headers["Content-Type"] == "application/json"
    assert "An integer of 5000 digits in the request body" in answer["error"]
    assert len(answer["error"]) < 200
    assert len(log.getvalue().splitlines()) <= 1 and "Traceback" not in log.getvalue()


# -- 10: echoes bounded, no paths in the status, failures retried only when files change -------


def test_signature_name_is_not_echoed_unbounded(exports):
    app = make_app(exports / "base", name="g")
    name = "s" * 120
    status, body = call(
        app, "POST", "/v1/models/g:predict", {"signature_name": name, "inputs": [[0] * 4]}
    )
    assert status == 400 and "not found in signature def" in body["error"]
    assert name not in body["error"] and len(body["error"]) < 200
    status, body = call(
        app, "POST", "/v1/models/g:predict", {"signature_name": "x" * 100_000, "inputs": [[0]]}
    )
    assert status == 400 and body["error"].startswith("A string of 100000 bytes")
    app.close()


def test_status_errors_hold_no_server_paths(exports, tmp_path):
    models = tmp_path / "models"
    version_copy(exports, "base", models / "1")
    (models / "2").mkdir()
    (models / "2" / "model.onnx").write_bytes(b"garbage")
    app = make_app(models, name="g")
    _, body = call(app, "GET", "/v1/models/g")
    message = body["model_version_status"][1]["status"]["error_message"]
    assert "onnxruntime cannot load 2/model.onnx" in message
    for path in (str(tmp_path), str(tmp_path.resolve()), "/tmp", "/work", str(Path.home())):
        assert path not in message
    _, body = call(app, "GET", "/v1/models/g/load_status")
    assert str(tmp_path) not in json.dumps(body)
    app.close()


def test_failed_versions_are_retried_by_the_poller_only_when_their_files_change(exports, tmp_path):
    loads: list[tuple[str, str]] = []
    lock = threading.Lock()

    def factory(path: Path) -> Sampler:
        with lock:
            loads.append((path.name, threading.current_thread().name))
        return Sampler(path)

    models = tmp_path / "models"
    version_copy(exports, "base", models / "1")
    (models / "2").mkdir()
    (models / "2" / "model.onnx").write_bytes(b"garbage")
    source = ModelSource("g", models, poll_seconds=0.02, sampler_factory=factory, log=io.StringIO())
    app = ServingApp({"g": source})
    with running(app) as url:
        client = Client(url, "g")
        for _ in range(20):  # requests over many polls
            client.sample(1, seed=0)
            client.status()
            time.sleep(0.02)
        assert [name for name, _ in loads] == ["2", "1"]  # version 2 tried once
        (models / "2" / "model.onnx").write_bytes(b"other garbage")  # its files change
        wait_for(lambda: len(loads) == 3, "the retry of the changed version 2")
        time.sleep(0.2)
        assert [name for name, _ in loads] == ["2", "1", "2"]
        shutil.rmtree(models / "2")
        version_copy(exports, "spare", tmp_path / "v2")
        os.replace(tmp_path / "v2", models / "2")
        wait_for(lambda: client.status()[0]["version"] == "2", "the good version 2")
        assert [entry["version"] for entry in client.status()] == ["2"]
    threads = {thread for _, thread in loads}
    assert threads <= {"MainThread", "keras-gan poller g"}, threads  # never a request thread
    source.close()
