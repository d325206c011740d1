"""Shards: every host in exactly one, decided by its name alone."""

import json
import subprocess
from pathlib import Path

import pytest

from gpuhost import facts as facts_module
from gpuhost import fleet, report, runner
from gpuhost.errors import InventoryError
from gpuhost.inventory import Target
from tests.integration.converging import GPUHOST

NAMES = [f"gpu{n:03d}" for n in range(200)]


def names(targets):
    return [t.name for t in targets]


def test_the_shards_cover_every_host_once():
    targets = [Target(name=n) for n in NAMES]
    shards = [names(fleet.shard(targets, f"{i}/4")) for i in range(1, 5)]
    assert sorted(sum(shards, [])) == NAMES
    assert all(30 <= len(s) <= 70 for s in shards)  # a hash spreads them; no shard is empty or most


def test_a_new_host_moves_no_other_host():
    before = {n: fleet.shard_of(n, 8) for n in NAMES}
    after = {n: fleet.shard_of(n, 8) for n in NAMES + ["gpu-new"]}
    assert all(after[n] == before[n] for n in NAMES)


@pytest.mark.parametrize("spec", ["0/4", "5/4", "1/0", "a/b", "1", "-1/2"])
def test_a_bad_shard_is_one_sentence(spec):
    with pytest.raises(InventoryError, match=r"--shard .*: expected I/N with 1 <= I <= N"):
        fleet.shard([Target(name="a")], spec)


def test_the_command_line_takes_a_shard(tmp_path):
    """Three jobs, shards 1/3..3/3, between them ask every host once (nothing listens: all unreachable)."""
    inventory = tmp_path / "hosts.yaml"
    hosts = "".join(f"    {n}: {{ansible_host: 127.0.0.1, ansible_port: 9}}\n" for n in NAMES[:20])
    inventory.write_text("all:\n  hosts:\n" + hosts)
    seen = []
    for index in (1, 2, 3):
        listed = subprocess.run([GPUHOST, "facts", "--host", "all", "--shard", f"{index}/3", "--inventory",
                                 str(inventory), "--json"], capture_output=True, text=True, timeout=120)
        seen += list(json.loads(listed.stdout)["hosts"])
    assert sorted(seen) == NAMES[:20]


# ---- one view of many reports ---------------------------------------------------------------

SAMPLES = Path(__file__).parent / "facts_samples"


def sample(name):
    """Facts as the facts script read them on a real machine (parsed from its raw output)."""
    return facts_module.parse((SAMPLES / f"{name}.txt").read_text())


def written(tmp_path, name, results, mode="converge", when=None):
    data = report.as_dict(results, mode)
    if when:
        data["finished_at"] = when
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def result(name, facts, status="ok", **fields):
    return runner.HostResult(name=name, status=status, facts=facts, **fields)


def test_a_report_says_what_runs_on_each_host(tmp_path):
    (entry,) = json.loads(written(tmp_path, "r", [result("h100", sample("ubuntu-24.04-hgx-h100"))]).read_text())[
        "hosts"].values()
    facts = sample("ubuntu-24.04-hgx-h100")
    assert entry["summary"]["driver"] == facts["modules"]["nvidia"]["version"]
    assert len(entry["summary"]["gpus"]) == len(facts["pci"]) and "H100" in entry["summary"]["gpus"][0]
    assert entry["summary"]["kernel"] == facts["kernel"]


def test_the_newest_entry_of_each_host_wins_and_attention_is_drawn(tmp_path):
    t4, a10g = sample("ubuntu-20.04-gce-t4"), sample("ubuntu-22.04-aws-a10g")
    old = written(tmp_path, "shard-1", [result("a", t4, "failed", error="apt on a failed (exit 100): x."),
                                        result("b", a10g)], when="2026-11-01T10:00:00+00:00")
    new = written(tmp_path, "shard-2", [result("a", t4, "changed")], when="2026-11-02T10:00:00+00:00")
    plan = written(tmp_path, "plan", [result("c", a10g, "changed", reboot_pending="the nvidia module is not loaded")],
                   mode="plan", when="2026-11-02T11:00:00+00:00")
    plan_data = json.loads(plan.read_text())
    plan_data["hosts"]["c"]["changed"] = 3  # a plan that found drift
    plan.write_text(json.dumps(plan_data))
    view = fleet.merge({p: json.loads(p.read_text()) for p in (new, old, plan)})
    assert view["hosts"]["a"]["status"] == "changed" and view["hosts"]["a"]["report"] == str(new)
    assert view["attention"] == {"failed": [], "drifted": ["c"], "reboot_pending": ["c"]}
    assert "drifted: c" in fleet.table(view)


def test_the_command_merges_globs_writes_html_and_fails_when_a_host_failed(tmp_path):
    written(tmp_path, "push", [result("a", sample("ubuntu-20.04-gce-t4"), "unreachable", error="a is unreachable.")])
    written(tmp_path, "pull", [result("b", sample("ubuntu-24.04-hgx-h100"))])
    page = tmp_path / "fleet.html"
    shown = subprocess.run([GPUHOST, "report", "--reports", str(tmp_path / "*.json"), "--html", str(page)],
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 1 and "failed: a" in shown.stdout and "a: a is unreachable." in shown.stdout
    html = page.read_text()
    driver = sample("ubuntu-24.04-hgx-h100")["modules"]["nvidia"]["version"]
    assert html.startswith("<!doctype html>") and f"<td>{driver}</td>" in html and "<script" not in html


def test_a_report_is_posted_to_a_collector_and_a_dead_one_is_a_warning(tmp_path):
    """A collector on loopback receives the JSON; with none listening the converge still ends, with a warning."""
    import http.server
    import threading

    received = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        results = [result("a", sample("ubuntu-22.04-aws-a10g"))]
        assert report.send(results, f"http://127.0.0.1:{server.server_address[1]}/gpuhost") == ""
    finally:
        server.shutdown()
        server.server_close()
    assert received[0]["hosts"]["a"]["summary"]["os"] == sample("ubuntu-22.04-aws-a10g")["os"]["pretty"]
    dead = report.send(results, f"http://u:secret@127.0.0.1:{server.server_address[1]}/gpuhost", timeout=5)
    assert dead.startswith("the report could not be sent to http://u:secret@127.0.0.1")  # the CLI masks it
