"""Errors a connector raises; their own module so that option models and the interface can both raise them."""


class ConnectorError(RuntimeError):
    """A source cannot be reached or read; the message never contains a secret."""


class StreamEmptyError(ConnectorError):
    """The source holds nothing for a stream right now (an empty drop folder): an error only before its first load."""
