"""The error every config check raises."""


class ConfigError(ValueError):
    """A config key or value that cannot work."""
