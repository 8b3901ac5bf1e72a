"""No TensorFlow C++ log line in a command's output, unless the user asks for them.

The commands run in fresh interpreters: the lines come from TensorFlow's start-up, which
happens once per process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from keras_gan.cli.quiet import is_native_log_line
from tests.conftest import requires_fashion_mnist

ROOT = Path(__file__).resolve().parents[2]
# Written apart from keras_gan.cli.quiet.NATIVE_LOG_LINE, and looser: any line that starts
# like a glog/Abseil or TensorFlow C++ record, or Abseil's pre-initialisation notice.
CPP_LOG = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] )"
)


def _cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "keras_gan.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=300,
    )


def _log_lines(result: subprocess.CompletedProcess) -> list[str]:
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if CPP_LOG.match(line) or "absl::InitializeLog" in line]


@requires_fashion_mnist
def test_train_prints_no_cpp_log_line_and_verbose_brings_them_back(tmp_path):
    args = ["train", "--model", "dcgan", "--epochs", "1", "--limit", "64", "--batch-size", "32"]
    args += ["--width", "4", "--seed", "0"]
    quiet = _cli([*args, "--out", str(tmp_path / "quiet")])
    assert quiet.returncode == 0, quiet.stderr
    assert _log_lines(quiet) == []
    assert "d_loss:" in quiet.stdout and "sample grids:" in quiet.stdout  # its own output
    loud = _cli([*args, "--out", str(tmp_path / "loud"), "--verbose"])
    assert loud.returncode == 0, loud.stderr
    assert _log_lines(loud), "TensorFlow logged nothing: this test cannot tell quiet from loud"


def test_a_users_own_log_level_is_respected():
    code = "import os; from keras_gan.cli import main; main(['--version'])"
    for env in ({"TF_CPP_MIN_LOG_LEVEL": "0"}, {}):
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                code.replace("main([", "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL')); main(["),
            ],
            capture_output=True,
            text=True,
            env={**{k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}, **env},
        )
        assert result.stdout.splitlines()[0] == env.get("TF_CPP_MIN_LOG_LEVEL", "None")


def test_filter_drops_cpp_lines_and_keeps_everything_else_in_order():
    """Lines written to descriptor 2 by the process and by a child process it starts."""
    code = r"""
import os, subprocess, sys
from keras_gan.cli.quiet import NativeLogFilter
with NativeLogFilter():
    os.write(2, b"W0000 00:00:1796690815.578939    2349 port.cc:153] oneDNN custom operations\n")
    print("first", file=sys.stderr, flush=True)
    os.write(2, b"2026-12-08 00:44:05.123456: I tensorflow/core/x.cc:44] opened\npartial ")
    os.write(2, b"line\n")
    subprocess.run([sys.executable, "-c", "import os; os.write(2, b'E0000 00:00:1.5  7 "
                    "cuda_platform.cc:52] failed call to cuInit\\nfrom child\\n')"], check=True)
    print("Traceback (most recent call last):", file=sys.stderr)
    os.write(2, b"no newline at the end")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT)
    assert result.returncode == 0
    assert result.stderr == (
        b"first\npartial line\nfrom child\nTraceback (most recent call last):\n"
        b"no newline at the end"
    )


@pytest.mark.parametrize(
    ("line", "native"),
    [
        (b"I0000 00:00:1796690815.578939    2349 port.cc:153] oneDNN custom operations", True),
        (b"E0000 00:00:1796690840.868240    2349 meta_optimizer.cc:967] remapper failed", True),
        (b"2019-08-26 11:45:17.907378: I tensorflow/stream_executor/dso_loader.cc:44] ok", True),
        (
            b"WARNING: All log messages before absl::InitializeLog() is called "
            b"are written to STDERR",
            True,
        ),
        (b"Epoch 1/12", False),
        (b"I0 is a variable name] here", False),
        (b"2026-12-08 00:44:05.123 [W:onnxruntime:, session.cc:1] onnxruntime's own", False),
        (b"E: a user-facing error line", False),
    ],
)
def test_native_log_line_format(line, native):
    assert is_native_log_line(line) is native
