"""The demo county (大竹县): deterministic source systems of its departments, an API stand-in and SQL copies."""

from countyhub.demo.api_server import EnterpriseApi
from countyhub.demo.generate import Manifest, corrupt_duplicate_ids, generate, load_manifest
from countyhub.demo.next_day import next_day
from countyhub.demo.scale import SCALES, Scale
from countyhub.demo.sql_targets import copy_sqlite_to

__all__ = ["SCALES", "EnterpriseApi", "Manifest", "Scale", "copy_sqlite_to", "corrupt_duplicate_ids", "generate",
           "load_manifest", "next_day"]
