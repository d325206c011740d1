"""apt's status lines become a few progress lines: on a new phase, every 10 %, never a flood."""

from gpuhost.progress import AptProgress, CondaProgress

# As apt 2.6 prints them with -o APT::Status-Fd=1 (Debian 12), between its ordinary output.
OUTPUT = """\
Get:1 http://deb.debian.org/debian bookworm/main amd64 hello amd64 2.10-3 [53.1 kB]
dlstatus:1:0.0000:Retrieving file 1 of 3
dlstatus:1:2.0000:Retrieving file 1 of 3
dlstatus:2:12.5000:Retrieving file 2 of 3
dlstatus:2:14.0000:Retrieving file 2 of 3
dlstatus:3:100.0000:Retrieving file 3 of 3
Fetched 53.1 kB in 0s (3464 kB/s)
pmstatus:dpkg-exec:0.0000:Running dpkg
pmstatus:dkms:95.1351:Preparing to configure dkms (amd64)
pmerror:nvidia-kernel-open-dkms:96.7568:installed nvidia-kernel-open-dkms package post-installation script
"""


def shown(chunks):
    lines = []
    watcher = AptProgress(lines.append)
    stream = ""
    for chunk in chunks:
        stream += chunk
        watcher.submit(stream)
    return lines


def test_each_phase_and_each_ten_percent_is_one_line():
    assert shown([OUTPUT]) == [
        "apt downloading 0%: Retrieving file 1 of 3",
        "apt downloading 12%: Retrieving file 2 of 3",
        "apt downloading 100%: Retrieving file 3 of 3",
        "apt installing 0%: Running dpkg",
        "apt installing 95%: Preparing to configure dkms (amd64)",
    ]


def test_output_arriving_in_pieces_is_read_once_and_only_whole_lines():
    pieces = [OUTPUT[i:i + 7] for i in range(0, len(OUTPUT), 7)]
    assert shown(pieces) == shown([OUTPUT])


def test_each_conda_phase_is_one_line_when_it_starts():
    # conda 24 with --quiet, as conda/conda#9108 shows it (phases on stdout, no progress bars)
    output = ("Channels:\n - conda-forge\nPlatform: linux-64\nCollecting package metadata (repodata.json): done\n"
              "Solving environment: ...working... done\n\n## Package Plan ##\n\nPreparing transaction: ...working... done\n"
              "Verifying transaction: ...working... done\nExecuting transaction: ...working... done\n")
    lines = []
    watcher = CondaProgress(lines.append, "ml")
    for end in range(0, len(output) + 1, 9):
        watcher.submit(output[:end])
    assert lines == ["conda ml: collecting package metadata", "conda ml: solving environment",
                     "conda ml: preparing transaction", "conda ml: verifying transaction",
                     "conda ml: executing transaction"]
