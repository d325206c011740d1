"""What create and install print: the channels, the step lines, the package plan, the activation
hint; with --json one JSON document instead, as conda prints it."""
import json
import sys
from contextlib import contextmanager

from .channel import Channel
from .context import SUBDIR
from .prefix import dist_fields, dist_str
from .version import VersionOrder


class Output:
    def __init__(self, as_json):
        self.json = as_json

    def text(self, message):
        if not self.json:
            print(message, flush=True)

    def warn(self, message):
        print(message, file=sys.stderr, flush=True)

    def channels(self, channels):
        self.text("Channels:\n" + "".join(f" - {c.canonical}\n" for c in channels) + f"Platform: {SUBDIR}")

    @contextmanager
    def step(self, message):
        if self.json:
            yield
            return
        print(f"{message}: ", end="", flush=True)
        try:
            yield
        except BaseException:
            print("failed", flush=True)
            raise
        print("done", flush=True)

    def nothing_to_do(self):
        if self.json:
            self._json({"message": "All requested packages already installed.", "success": True})
        else:
            self.text("\n# All requested packages already installed.\n")

    def plan(self, target, specs, installed, unlink, link):
        lines = ["", "## Package Plan ##", "", f"  environment location: {target}", ""]
        if specs:
            lines += ["  added / updated specs:"] + [f"    - {s}" for s in specs] + ["", ""]
        linked = {r["name"]: r for r in link}
        groups = {}
        for record in link:
            old = installed.get(record["name"])
            kind = "NEW" if old is None else _change(old, record)
            groups.setdefault(kind, []).append(record)
        for record in unlink:
            if record["name"] not in linked:
                groups.setdefault("REMOVED", []).append(record)
        for kind, title in (("NEW", "The following NEW packages will be INSTALLED:"),
                            ("REMOVED", "The following packages will be REMOVED:"),
                            ("UPDATED", "The following packages will be UPDATED:"),
                            ("SUPERSEDED", "The following packages will be SUPERSEDED by a higher-priority channel:"),
                            ("DOWNGRADED", "The following packages will be DOWNGRADED:")):
            if kind in groups:
                lines += [title, ""] + [self._plan_line(kind, r, installed) for r in
                                        sorted(groups[kind], key=lambda r: r["name"])] + [""]
        self.text("\n".join(lines) + "\n")

    @staticmethod
    def _plan_line(kind, record, installed):
        if kind in ("NEW", "REMOVED"):
            return f"  {record['name']:<18} {dist_str(record)}"
        old = installed[record["name"]]
        return f"  {record['name']:<18} {old['version']}-{old['build']} --> {record['version']}-{record['build']}"

    def actions(self, target, unlink, link, dry_run=False):
        if not self.json:
            return
        document = {"actions": {"LINK": [dist_fields(r) for r in link], "PREFIX": target,
                                "UNLINK": [dist_fields(r) for r in unlink]},
                    "prefix": target, "success": True}
        if dry_run:
            document["dry_run"] = True
        self._json(document)

    def activation_hint(self, name):
        self.text("#\n# To activate this environment, use\n#\n"
                  f"#     $ conda activate {name}\n#\n"
                  "# To deactivate an active environment, use\n#\n#     $ conda deactivate\n")

    @staticmethod
    def _json(document):
        print(json.dumps(document, indent=2, sort_keys=True), flush=True)


def _change(old, new):
    a, b = VersionOrder(old["version"]), VersionOrder(new["version"])
    if a != b:
        return "UPDATED" if b > a else "DOWNGRADED"
    if Channel(old["channel"]).canonical != Channel(new["channel"]).canonical:
        return "SUPERSEDED"
    return "DOWNGRADED" if old.get("build_number", 0) > new.get("build_number", 0) else "UPDATED"
