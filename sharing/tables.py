"""The sharing tables, kept in the catalog's database: users, access requests, grants and the audit log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateIndex

from countyhub.core.dbschema import add_missing_columns, create_tables

metadata = MetaData()

users = Table(
    "sharing_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("department", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    # The token's public half finds the row; the whole token is checked against an Argon2 hash.
    Column("token_id", String(32), nullable=False, unique=True),
    Column("token_hash", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

access_requests = Table(
    "sharing_access_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(255), nullable=False),
    Column("owner", String(64), nullable=False),  # the dataset's department, so its steward's list is one query
    Column("department", String(64), nullable=False),
    Column("requester", String(128), nullable=False),
    Column("columns_json", Text, nullable=False),
    Column("services_json", Text, nullable=False, server_default="[]"),  # data services asked for by name
    Column("purpose", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("days", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", DateTime),
    Column("reason", Text, nullable=False, default=""),
    Index("ix_sharing_requests_dataset", "dataset", "status"),
    Index("ix_sharing_requests_owner", "owner", "status"),
)

grants = Table(
    "sharing_grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, nullable=False),
    Column("dataset", String(255), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("department", String(64), nullable=False),
    Column("columns_json", Text, nullable=False),
    Column("services_json", Text, nullable=False, server_default="[]"),
    # The steward's limits for the grant's service calls; NULL: the deployment's defaults.
    Column("rate_per_second", Float),
    Column("daily_quota", Integer),
    Column("purpose", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("approver", String(128), nullable=False),
    Column("revoked_by", String(128)),
    Column("starts_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Index("ix_sharing_grants_lookup", "department", "dataset"),
)

audit_log = Table(
    "sharing_audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("department", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("dataset", String(255), nullable=False, default=""),
    Column("entry_json", Text, nullable=False),  # the whole entry as hashed (columns, purpose, grant, rows, detail)
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_sharing_audit_department", "department", "at"),
    Index("ix_sharing_audit_dataset", "dataset", "at"),
    # The publish entries are read at every gate (countyhub.flow.publish_audit), among millions of reads.
    Index("ix_sharing_audit_action", "action", "dataset"),
)


# One number that every change to who may read what moves (a user added or revoked, a grant approved or revoked):
# a process may cache principals and grants for as long as the number it read them at is still the current one.
state = Table(
    "sharing_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", BigInteger, nullable=False),
)


def bump(con: Connection) -> None:
    """Move the generation, inside the transaction of the change itself."""
    con.execute(update(state).where(state.c.id == 1).values(generation=state.c.generation + 1))


def upgrade(engine: Engine) -> None:
    """Create the sharing tables that are missing, and add the columns later versions added (data services)."""
    create_tables(engine, metadata)
    with engine.begin() as con:  # create_all adds no index to a table an earlier version made
        for index in audit_log.indexes:
            con.execute(CreateIndex(index, if_not_exists=True))
    for table in (access_requests, grants):
        add_missing_columns(engine, table)
    with engine.begin() as con:
        if con.execute(select(state.c.id)).first() is None:
            try:
                con.execute(insert(state).values(id=1, generation=0))
            except IntegrityError:  # another process made it first
                pass
