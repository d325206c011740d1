"""Writing files as conda does: new files and folders get the process's umask, never a chmod."""
import os


def write(path, data, mode=0o666):
    """Create (or replace) `path` with `data`; `mode` is filtered by the umask like any new file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    remove(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o777)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def remove(path):
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)


def prune(path, stop):
    """Remove the empty folders from `path` up to, not including, `stop`."""
    stop = os.path.normpath(stop)
    path = os.path.normpath(path)
    while path.startswith(stop + os.sep):
        try:
            os.rmdir(path)
        except OSError:
            return
        path = os.path.dirname(path)
