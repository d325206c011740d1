"""conda's errors: printed as `<Name>: <message>` on stderr (or as JSON with --json), exit 1."""


class CondaError(Exception):
    """An error conda reports by its class name; `exit_code` 0 marks the ones that end a run normally."""

    exit_code = 1

    @property
    def name(self):
        return type(self).__name__

    def report(self):
        return f"{self.name}: {self}"


class CondaValueError(CondaError):
    pass


class CondaSystemExit(CondaError):
    pass


class DryRunExit(CondaError):
    exit_code = 0

    def __init__(self):
        super().__init__("Dry run. Exiting.")


class ArgumentError(CondaError):
    pass


class ParseError(CondaError):
    pass


class CondaHTTPError(CondaError):
    def __init__(self, url, status="000 CONNECTION FAILED"):
        super().__init__(f"HTTP {status} for url <{url}>\nElapsed: -\n\n"
                         "An HTTP error occurred when trying to retrieve this URL.\n"
                         "HTTP errors are often intermittent, and a simple retry will get you on your way.")


class UnavailableInvalidChannel(CondaError):
    def __init__(self, channel, url, status):
        super().__init__(f"HTTP {status} for channel {channel} <{url}>\n\n"
                         "The channel is not accessible or is invalid.")


class PackagesNotFoundError(CondaError):
    def __init__(self, specs, channel_urls):
        lines = "".join(f"  - {spec}\n" for spec in specs)
        urls = "".join(f"  - {url}\n" for url in channel_urls)
        super().__init__("The following packages are not available from current channels:\n\n"
                         f"{lines}\nCurrent channels:\n\n{urls}\n"
                         "To search for alternate channels that may provide the conda package you're\n"
                         "looking for, navigate to\n\n    https://anaconda.org\n\n"
                         "and use the search bar at the top of the page.\n")


class UnsatisfiableError(CondaError):
    def __init__(self, conflicts):
        lines = "".join(f"  - {line}\n" for line in conflicts)
        super().__init__("The following specifications were found to be incompatible with each other:\n\n"
                         f"{lines}")


class ChecksumMismatchError(CondaError):
    def __init__(self, url, path, kind, expected, actual):
        super().__init__("Conda detected a mismatch between the expected content and downloaded content\n"
                         f"for url '{url}'.\n  download saved to: {path}\n"
                         f"  expected {kind}: {expected}\n  actual {kind}: {actual}\n")


class EnvironmentLocationNotFound(CondaError):
    def __init__(self, prefix):
        super().__init__(f"Not a conda environment: {prefix}")


class EnvironmentNameNotFound(CondaError):
    def __init__(self, name):
        super().__init__(f"Could not find conda environment: {name}\n"
                         "You can list all discoverable environments with `conda info --envs`.")


class InvalidMatchSpec(CondaError):
    def __init__(self, spec, reason):
        super().__init__(f"Invalid spec '{spec}': {reason}")
