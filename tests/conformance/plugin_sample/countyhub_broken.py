"""A third-party connector whose dependency is not installed: importing it fails."""

import paramiko_not_installed  # noqa: F401

from countyhub.connectors import Connector


class FtpConnector(Connector):
    kind = "ftp"
