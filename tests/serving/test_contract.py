"""Contract tests: request and response JSON against TF Serving's documented REST API
(https://www.tensorflow.org/tfx/serving/api_rest), the Client against a stand-in TF Serving,
and `keras-gan serving-config` / models.config."""

from __future__ import annotations

import io
import json
import shutil
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import numpy as np
import pytest
from keras_gan.serving import (
    Client,
    Limits,
    Sampler,
    ServingError,
    format_models_config,
    make_app,
    parse_models_config,
    write_models_config,
)
from keras_gan.serving.config import read_models_config
from keras_gan.serving.latent import latent
from keras_gan.serving.server import make_multi_app

from keras_gan.cli import main
from tests._serving_export import IMAGE_SHAPE, LATENT_DIM, tiny_exports

# ModelVersionStatus.State and error_codes.Code names (get_model_status.proto, status.proto).
STATES = {"UNKNOWN", "START", "LOADING", "AVAILABLE", "UNLOADING", "END"}
ERROR_CODES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "UNAUTHENTICATED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
    "UNAVAILABLE", "DATA_LOSS",
}  # fmt: skip
DTYPES = {"DT_FLOAT", "DT_DOUBLE", "DT_INT32", "DT_INT64", "DT_UINT8", "DT_STRING", "DT_BOOL"}


@pytest.fixture(scope="module")
def exports(pytestconfig, tmp_path_factory) -> Path:
    return tiny_exports(pytestconfig, tmp_path_factory)


@pytest.fixture(scope="module")
def app(exports):
    return make_app(exports / "base", name="gen", limits=Limits(max_batch=64))


def call(app, method, path, payload=None):
    body = b"" if payload is None else json.dumps(payload).encode()
    captured = {}
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    raw = b"".join(app(env, lambda s, h: captured.update(status=s)))
    return int(captured["status"].split()[0]), json.loads(raw)


# -- validators written from the documented API ------------------------------------------------


def check_status_response(body: dict) -> None:
    """GetModelStatusResponse in JSON: version as a string, state and error_code as enum names."""
    assert set(body) == {"model_version_status"}
    for entry in body["model_version_status"]:
        assert set(entry) == {"version", "state", "status"}
        assert isinstance(entry["version"], str) and entry["version"].isdigit()
        assert entry["state"] in STATES
        assert set(entry["status"]) == {"error_code", "error_message"}
        assert entry["status"]["error_code"] in ERROR_CODES
        assert isinstance(entry["status"]["error_message"], str)


def check_tensor_info(info: dict) -> None:
    assert set(info) == {"dtype", "tensor_shape", "name"}
    assert info["dtype"] in DTYPES and isinstance(info["name"], str)
    shape = info["tensor_shape"]
    assert set(shape) == {"dim", "unknown_rank"} and shape["unknown_rank"] is False
    for dim in shape["dim"]:
        assert set(dim) == {"size", "name"}
        assert isinstance(dim["size"], str) and int(dim["size"]) >= -1  # int64 as a string


def check_metadata_response(body: dict, name: str) -> dict:
    """GetModelMetadataResponse: model_spec + metadata.signature_def.signature_def."""
    assert set(body) == {"model_spec", "metadata"}
    spec = body["model_spec"]
    assert set(spec) == {"name", "signature_name", "version"} and spec["name"] == name
    assert isinstance(spec["version"], str) and spec["version"].isdigit()
    signatures = body["metadata"]["signature_def"]["signature_def"]
    for signature in signatures.values():
        assert set(signature) == {"inputs", "outputs", "method_name"}
        for info in [*signature["inputs"].values(), *signature["outputs"].values()]:
            check_tensor_info(info)
    return signatures


def check_predictions(body: dict, key: str, batch: int, shape: tuple) -> np.ndarray:
    """One named output: the key maps to the (nested) list itself, not to {name: value}."""
    assert set(body) == {key}
    value = body[key]
    assert isinstance(value, list) and len(value) == batch
    array = np.asarray(value)
    assert array.shape == (batch, *shape)
    return array


# -- the server against the documented API -----------------------------------------------------


def test_status_and_metadata_follow_the_documented_json(app):
    status, body = call(app, "GET", "/v1/models/gen")
    assert status == 200
    check_status_response(body)
    # The documented example answer, field for field (version aside).
    assert body["model_version_status"][0] == {
        "version": "1",
        "state": "AVAILABLE",
        "status": {"error_code": "OK", "error_message": ""},
    }
    status, meta = call(app, "GET", "/v1/models/gen/metadata")
    assert status == 200
    signatures = check_metadata_response(meta, "gen")
    assert set(signatures) == {"serving_default", "sample"}
    assert set(signatures["serving_default"]["inputs"]) == {"z"}
    assert set(signatures["sample"]["inputs"]) == {"n", "seed"}
    assert {tuple(s["outputs"]) for s in signatures.values()} == {("images",)}


def test_row_format_instances_to_predictions(app, exports):
    z = latent(3, 1, LATENT_DIM)
    # "When there is only one named input, specify the value of instances to be the value".
    status, body = call(app, "POST", "/v1/models/gen:predict", {"instances": z.tolist()})
    assert status == 200
    images = check_predictions(body, "predictions", 3, IMAGE_SHAPE)
    np.testing.assert_array_equal(images.astype(np.float32), Sampler(exports / "base").generate(z))
    # The list-of-objects form of the same request.
    objects = {"signature_name": "serving_default", "instances": [{"z": r} for r in z.tolist()]}
    assert call(app, "POST", "/v1/models/gen:predict", objects) == (200, body)


def test_columnar_format_inputs_to_outputs(app, exports):
    z = latent(2, 5, LATENT_DIM)
    status, body = call(app, "POST", "/v1/models/gen:predict", {"inputs": {"z": z.tolist()}})
    assert status == 200
    check_predictions(body, "outputs", 2, IMAGE_SHAPE)
    # "The value for inputs key can either a single input tensor or a map".
    assert call(app, "POST", "/v1/models/gen:predict", {"inputs": z.tolist()}) == (200, body)
    request = {"signature_name": "sample", "inputs": {"n": 4, "seed": 0}}
    status, body = call(app, "POST", "/v1/models/gen:predict", request)
    assert status == 200
    images = check_predictions(body, "outputs", 4, IMAGE_SHAPE)
    assert images.dtype.kind == "i" and images.min() >= 0 and images.max() <= 255
    np.testing.assert_array_equal(images, Sampler(exports / "base").sample(4, seed=0))


def test_errors_are_the_documented_error_object(app):
    # The documented 404 example: {"error": "Servable not found for request: Latest(half)"}.
    status, body = call(app, "POST", "/v1/models/half:predict", {"instances": [1.0, 5.0]})
    assert (status, body) == (404, {"error": "Servable not found for request: Latest(half)"})
    for payload in ({"instances": [[0.0] * 3]}, {"inputs": {"z": 1}}, {"signature_name": 3}):
        status, body = call(app, "POST", "/v1/models/gen:predict", payload)
        assert status == 400 and set(body) == {"error"} and isinstance(body["error"], str)


# -- the Client against a stand-in TF Serving --------------------------------------------------


class FakeTFServing:
    """Answers as TF Serving does for this export's SavedModel, and checks every request
    against the documented request format."""

    def __init__(self, sampler: Sampler):
        self.sampler = sampler
        self.requests: list[tuple[str, str, dict | None]] = []

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = json.loads(environ["wsgi.input"].read(length)) if length else None
        self.requests.append((method, path, payload))
        if method == "GET" and path == "/v1/models/m":
            answer = {
                "model_version_status": [
                    {
                        "version": "123",
                        "state": "AVAILABLE",
                        "status": {"error_code": "OK", "error_message": ""},
                    }
                ]
            }
        elif method == "GET" and path == "/v1/models/m/metadata":
            dims = [{"size": "-1", "name": ""}, {"size": str(LATENT_DIM), "name": ""}]
            z = {
                "dtype": "DT_FLOAT",
                "tensor_shape": {"dim": dims, "unknown_rank": False},
                "name": "z:0",
            }
            signatures = {"serving_default": {"inputs": {"z": z}}}
            answer = {
                "model_spec": {"name": "m", "signature_name": "", "version": "123"},
                "metadata": {"signature_def": {"signature_def": signatures}},
            }
        elif method == "POST" and path == "/v1/models/m:predict":
            assert set(payload) <= {"signature_name", "instances", "inputs"}
            assert ("instances" in payload) != ("inputs" in payload)
            signature = payload.get("signature_name", "serving_default")
            if signature == "sample":
                inputs = payload["inputs"]
                assert set(inputs) == {"n", "seed"}
                images = self.sampler.sample(inputs["n"], inputs["seed"])
                answer = {"outputs": images.tolist()}
            elif "instances" in payload:
                answer = {"predictions": self.sampler.generate(payload["instances"]).tolist()}
            else:
                answer = {"outputs": self.sampler.generate(payload["inputs"]["z"]).tolist()}
        else:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{ "error": "Servable not found for request: Latest(x)" }']
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def test_client_speaks_the_documented_api(exports):
    sampler = Sampler(exports / "base")
    fake = FakeTFServing(sampler)
    server = make_server("127.0.0.1", 0, fake, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Client(f"http://127.0.0.1:{server.server_port}", "m")
        assert client.wait_until_available(timeout=5) == "123"
        assert client.latent_dim == LATENT_DIM
        z = latent(2, 4, LATENT_DIM)
        np.testing.assert_array_equal(client.generate(z), sampler.generate(z))
        np.testing.assert_array_equal(client.generate(z, row_format=True), sampler.generate(z))
        np.testing.assert_array_equal(client.sample(3, seed=8), sampler.sample(3, seed=8))
        with pytest.raises(ServingError, match=r"HTTP 404: Servable not found"):
            Client(client.url, "other").status()
    finally:
        server.shutdown()
        server.server_close()
    bodies = [payload for method, _, payload in fake.requests if method == "POST"]
    assert bodies == [
        {"inputs": {"z": z.tolist()}},
        {"instances": z.tolist()},
        {"signature_name": "sample", "inputs": {"n": 3, "seed": 8}},
    ]


def test_client_errors():
    with pytest.raises(ValueError, match="url must be http"):
        Client("127.0.0.1:8501", "m")
    with pytest.raises(ValueError, match="Invalid model name"):
        Client("http://127.0.0.1:8501", "../m")
    with pytest.raises(ServingError, match="Cannot reach"):
        Client("http://127.0.0.1:9", "m", timeout=2).status()


# -- models.config -----------------------------------------------------------------------------


def test_models_config_text_round_trip(tmp_path):
    models = {"dcgan": "/models/dcgan", "odd": "/data/it's \\ here"}
    text = format_models_config(models)
    assert text.startswith("model_config_list {\n  config {\n    name: 'dcgan'\n")
    assert "    model_platform: 'tensorflow'\n" in text
    assert parse_models_config(text) == models
    path = write_models_config(models, tmp_path / "m" / "models.config")
    assert path.read_text() == text and [p.name for p in path.parent.iterdir()] == ["models.config"]
    # TF Serving's own documented form: double quotes, comments, extra fields.
    documented = """
    # two models
    model_config_list {
      config { name: "a" base_path: "/models/a" model_platform: "tensorflow"
               model_version_policy { specific { versions: 1 versions: 2 } } }
      config: { name: 'b', base_path: '/models/b' }
    }
    """
    assert parse_models_config(documented) == {"a": "/models/a", "b": "/models/b"}
    for bad, message in [
        ("config { name: 'a' }", "no model_config_list"),
        ("model_config_list { config { name: 'a' } }", "needs name and base_path"),
        ("model_config_list { config { name: 'a' base_path: '/x' } config { name: 'a' "
         "base_path: '/y' } }", "names the model 'a' twice"),
        ("model_config_list { config { name: 'a' base_path: '/x' } } }", "unbalanced"),
        ("model_config_list { config { name: @ } }", "line 1: unexpected '@'"),
    ]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            parse_models_config(bad)


def test_cli_serving_config_and_serving_it(exports, tmp_path, capsys):
    run = tmp_path / "runs" / "dcgan"
    (run / "export").mkdir(parents=True)
    shutil.copytree(exports / "base" / "1", run / "export" / "1")
    other = tmp_path / "other-model"
    shutil.copytree(exports / "spare" / "1", other / "1")
    out = tmp_path / "models.config"
    assert main(["serving-config", str(run / "export"), str(other), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert parse_models_config(out.read_text()) == {
        "dcgan": "/models/dcgan",
        "other-model": "/models/other-model",
    }
    assert f"--mount type=bind,source={run / 'export'},target=/models/dcgan" in printed
    assert "-t tensorflow/serving --model_config_file=/models/models.config" in printed
    assert "docker run -p 8501:8501 -p 8500:8500" in printed

    local = tmp_path / "local.config"
    args = [str(run / "export"), str(other), "--name", "a", "--name", "b", "--host-paths"]
    assert main(["serving-config", *args, "--out", str(local)]) == 0
    models = read_models_config(local)
    assert models == {"a": str(run / "export"), "b": str(other)}
    app = make_multi_app(models)
    z = latent(2, 0, LATENT_DIM).tolist()
    _, first = call(app, "POST", "/v1/models/a:predict", {"instances": z})
    _, second = call(app, "POST", "/v1/models/b:predict", {"instances": z})
    np.testing.assert_array_equal(first["predictions"], Sampler(run / "export").generate(z))
    np.testing.assert_array_equal(second["predictions"], Sampler(other).generate(z))


def test_cli_serving_config_errors(exports, tmp_path, capsys):
    onnx_only = tmp_path / "onnx_only"
    (onnx_only / "1").mkdir(parents=True)
    (onnx_only / "1" / "model.onnx").write_bytes(b"x")
    base = str(exports / "base")
    for args, message in [
        ([str(tmp_path / "missing")], "No model base path at"),
        ([str(tmp_path)], "holds no numeric version directory"),
        ([str(onnx_only)], "holds a SavedModel (saved_model.pb), which TF Serving needs"),
        ([base, base], "Two models are named 'base'"),
        ([base, "--name", "a", "--name", "b"], "--name must be given once per DIR"),
        ([base, "--name", "../x"], "Invalid model name '../x'"),
    ]:
        out = tmp_path / "x.config"
        assert main(["serving-config", *args, "--out", str(out)]) == 2
        assert message in capsys.readouterr().err
        assert not out.exists()
