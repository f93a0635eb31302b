"""User-facing errors: the message is shown as is (CLI or message box), never a traceback."""


class VaeStudioError(Exception):
    """Base class for problems caused by input the user gave us (files, folders, flags)."""


class DataError(VaeStudioError):
    """A data set could not be found, read or parsed."""


class CheckpointError(VaeStudioError):
    """A checkpoint file could not be written or read."""


class ConfigError(VaeStudioError):
    """A configuration value is out of range or inconsistent."""
