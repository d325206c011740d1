"""A small stand-in for tabulate @@version@@: the `tabulate` function with its default "simple" format."""

__version__ = "@@version@@"


def tabulate(tabular_data, headers=(), floatfmt="g"):
    """Format rows as a plain-text table: columns padded, numbers right-aligned, text left-aligned."""
    rows = [[_text(cell, floatfmt) for cell in row] for row in tabular_data]
    headers = [str(h) for h in headers]
    width = max([len(headers)] + [len(r) for r in rows])
    columns = [[r[i] if i < len(r) else "" for r in rows] for i in range(width)]
    numeric = [all(_is_number(c) for c in column if c != "") and any(column) for column in columns]
    sizes = [max([len(c) for c in column] + [len(headers[i]) if i < len(headers) else 0])
             for i, column in enumerate(columns)]

    def line(cells):
        padded = [(c.rjust(sizes[i]) if numeric[i] else c.ljust(sizes[i])) for i, c in enumerate(cells)]
        return "  ".join(padded).rstrip()

    lines = []
    if headers:
        lines += [line(headers + [""] * (width - len(headers))), "  ".join("-" * s for s in sizes)]
    lines += [line(r + [""] * (width - len(r))) for r in rows]
    return "\n".join(lines)


def _text(cell, floatfmt):
    return format(cell, floatfmt) if isinstance(cell, float) else str(cell)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True
