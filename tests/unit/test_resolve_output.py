"""`gpuhost resolve` says the same thing as text and as JSON: one resolved stack, two renderings.

Each case runs the real command line twice (with and without --json) for GPUs the team did not
list by hand and an OS, and compares what both say: the same refusal, or the same driver, CUDA,
cuDNN, TensorRT and repository.
"""
import json

import pytest

from gpuhost.cli import program

GPUS = ["Tesla K80", "10de:1023", "GeForce GTX 680", "10de:1c20", "Quadro RTX 3000", "T4", "10de:2237",
        "10de:26ba", "10de:2329", "H200", "GH200", "RTX 5090", "10de:2c02", "B200", "10de:06c0"]
OSES = ["ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04", "debian-12"]


def run(capsys, *argv):
    program.run(["gpuhost", "resolve", *argv], exit=False)
    out, err = capsys.readouterr()
    return out, err


def text_values(out):
    """The first word of each line is the layer; the next its value ('-' when left out)."""
    return {line.split()[0]: line.split()[1] for line in out.splitlines()}


@pytest.mark.parametrize("os_name", OSES)
@pytest.mark.parametrize("gpu", GPUS)
def test_text_and_json_agree(capsys, gpu, os_name):
    text, text_err = run(capsys, "--gpu", gpu, "--os", os_name)
    raw, json_err = run(capsys, "--gpu", gpu, "--os", os_name, "--json")
    assert text_err == json_err
    if text_err:
        assert text_err.startswith("error: ") and not text and not raw
        return
    d, values = json.loads(raw), text_values(text)
    assert values["repo"] == d["repo"]["path"]
    assert values.get("driver", "-") == (str(d["driver"]["branch"]) if d["driver"] else "-")
    assert values.get("cuda", "-") == (d["cuda"] or "-")
    assert values.get("cudnn", "-") == (d["cudnn"] or "-")
    assert values.get("tensorrt", "-") == (d["tensorrt"] or "-")
