"""The tables `peers.py` prints: per tool and column, seconds with ratios to gpuhost and to the floor.

A cell holds the median seconds of its runs, or a word saying why there is none ("timed out",
"failed", "changed 3"); a missing cell was not measured.
"""

import statistics

FLOOR = "`ssh true` (floor)"
GPUHOST = "gpuhost converge"


def cell(seconds, word=""):
    """The median of the runs, or the word for what spoiled them."""
    return word if word else statistics.median(seconds)


def seconds_text(value):
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s" if value < 100 else f"{value:.0f} s"


def ratio_text(value, base):
    ratio = value / base
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:.0f}×"


def shown(row, column, rows):
    """One cell as text: seconds, then how many times gpuhost's and the floor's it takes."""
    value = rows[row].get(column)
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    bases = [] if row == FLOOR else [(base, name) for base, name in ((GPUHOST, "gpuhost"), (FLOOR, "floor"))
                                     if base != row]
    ratios = [f"{ratio_text(value, rows[base][column])} {name}" for base, name in bases
              if _positive(rows.get(base, {}).get(column))]
    return seconds_text(value) + (f" ({', '.join(ratios)})" if ratios else "")


def _positive(value):
    return isinstance(value, (int, float)) and value > 0


def markdown(rows, columns):
    """rows: {label: {column: cell}} in print order; columns: {column: heading}."""
    lines = ["| | " + " | ".join(columns.values()) + " |", "|---" * (len(columns) + 1) + "|"]
    for row in rows:
        lines.append(f"| {row} | " + " | ".join(shown(row, column, rows) for column in columns) + " |")
    return "\n".join(lines)
