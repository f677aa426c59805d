"""The demo county (大竹县): deterministic source systems of its departments, an API stand-in and SQL copies."""

from countyhub.demo.api_server import EnterpriseApi
from countyhub.demo.generate import Manifest, corrupt_duplicate_ids, generate, load_manifest
from countyhub.demo.sql_targets import copy_sqlite_to

__all__ = ["EnterpriseApi", "Manifest", "copy_sqlite_to", "corrupt_duplicate_ids", "generate", "load_manifest"]
