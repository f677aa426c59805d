"""Keys from the data: propose a column (else a pair) that is unique and not null, and check a declared key holds."""

from __future__ import annotations

import itertools
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
import yaml

from countyhub.connectors.base import Connector, ConnectorError, RejectList
from countyhub.connectors.files import SOURCE_FILE, FilesConnector
from countyhub.connectors.sql import SqlConnector, arrow_type
from countyhub.core.departments import Stream

# Above this many rows only the first SAMPLE_ROWS are checked: on a 1M-row PostgreSQL table (2 shared cores) the
# counts took 7.7 s over every row and 1.6 s over this sample, and a sample still finds what is *not* unique.
SAMPLE_ROWS = 200_000
MAX_CANDIDATES = 8  # columns profiled in the one aggregate query
MAX_PAIR_COLUMNS = 6  # pairs are formed from the best few: at most 15 more distinct counts
FREE_TEXT_CHARS = 64  # a longer value is prose (a remark, an address), not an identifier

ID_LIKE = re.compile(r"(身份证|公民身份号码|证件号|编号|编码|代码|号码|^id$|_id$|^id_|id_number|_no$|_code$|^code$|_num$)",
                     re.IGNORECASE)
NOT_A_KEY = re.compile(r"(备注|说明|描述|地址|住址|内容|时间|日期|remark|note|comment|desc|address|memo|content|"
                       r"_at$|date|time)", re.IGNORECASE)


@dataclass(frozen=True)
class KeyProposal:
    """A key found in the data ([] when no column or pair is unique and not null), and what it rests on."""

    columns: list[str]
    rows: int
    basis: str  # "12,345 rows", "a sample of the first 200,000 of 1,000,000 rows", "the 2 rows of 名册.csv"
    sampled: bool = False
    constraint: str | None = None  # the table whose primary key constraint the database enforces

    def describe(self) -> str:
        if self.constraint:
            return f"proposed: {key_text(self.columns)} — the primary key of table {self.constraint} in the database"
        if not self.rows:
            return f"no key proposed: {self.basis} hold no rows yet"
        if not self.columns:
            return f"no column or pair of columns is unique and not null in {self.basis}"
        return f"proposed: {key_text(self.columns)} — unique and not null in {self.basis}"


@dataclass(frozen=True)
class KeyCheck:
    """How a declared key fares in the data: rows sharing a key value with another row, rows with a key column empty."""

    columns: list[str]
    rows: int
    duplicates: int  # rows beyond the first of their key value
    nulls: int
    basis: str
    sampled: bool = False

    @property
    def holds(self) -> bool:
        return not self.duplicates and not self.nulls

    def describe(self) -> str:
        if self.holds:
            return f"key {key_text(self.columns)} is unique and not null in {self.basis}"
        problems = []
        if self.duplicates:
            verb = "repeats" if self.duplicates == 1 else "repeat"
            problems.append(f"{_rows(self.duplicates)} {verb} the key value of an earlier row")
        if self.nulls:
            problems.append(f"{_rows(self.nulls)} {'has' if self.nulls == 1 else 'have'} a key column empty")
        return f"key {key_text(self.columns)} is not unique and not null in {self.basis}: {'; '.join(problems)}"


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def key_text(columns: list[str]) -> str:
    """A key as a YAML flow list, ready to paste after `primary_key:` (odd names come out quoted)."""
    return yaml.safe_dump([str(c) for c in columns], default_flow_style=True, allow_unicode=True, width=10_000).strip()


@dataclass
class _Facts:
    """What one aggregate pass says about a candidate column."""

    name: str
    non_null: int
    distinct: int
    width: int  # longest value in characters (bytes on MySQL), or a fixed 8 for numbers
    id_like: bool
    position: int


class _Profile(ABC):
    """Distinct counts over a bounded set of rows: a SQL table (in the source) or the Arrow rows of a file."""

    rows: int
    basis: str
    sampled: bool

    @abstractmethod
    def facts(self, names: list[str]) -> list[_Facts]: ...

    @abstractmethod
    def distinct_pair(self, a: str, b: str) -> int: ...

    @abstractmethod
    def duplicates_and_nulls(self, key: list[str]) -> tuple[int, int]: ...


def _candidates(schema: Iterable[tuple[str, pa.DataType]], cursor: str | None) -> list[tuple[str, bool, int]]:
    """(name, id_like, position) of the columns worth profiling, best first, capped at MAX_CANDIDATES."""
    found = []
    for position, (name, type_) in enumerate(schema):
        if name in (cursor, SOURCE_FILE) or NOT_A_KEY.search(name):
            continue
        if not (pa.types.is_integer(type_) or pa.types.is_string(type_) or pa.types.is_large_string(type_)
                or pa.types.is_decimal(type_) and type_.scale == 0):
            continue  # floats, booleans, times, binary: never what a department means by "the key"
        found.append((name, bool(ID_LIKE.search(name)), position))
    found.sort(key=lambda c: (not c[1], c[2]))
    return found[:MAX_CANDIDATES]


def _rank(f: _Facts) -> tuple[bool, int, int]:
    return not f.id_like, f.width, f.position


def _choose(profile: _Profile, candidates: list[tuple[str, bool, int]]) -> list[str]:
    """The best single column, else the best pair, that is unique and not null in the profiled rows."""
    facts = [f for f in profile.facts([c[0] for c in candidates]) if f.width <= FREE_TEXT_CHARS]
    singles = sorted((f for f in facts if f.non_null == profile.rows == f.distinct), key=_rank)
    if singles:
        return [singles[0].name]
    # A pair can only be unique if neither column is ever empty and their distinct counts could cover the rows.
    usable = sorted((f for f in facts if f.non_null == profile.rows and f.distinct > 1), key=_rank)[:MAX_PAIR_COLUMNS]
    pairs = sorted(itertools.combinations(usable, 2),
                   key=lambda p: (-(p[0].id_like + p[1].id_like), p[0].width + p[1].width, p[0].position + p[1].position))
    for a, b in pairs:
        if a.distinct * b.distinct >= profile.rows and profile.distinct_pair(a.name, b.name) == profile.rows:
            return [f.name for f in sorted((a, b), key=lambda f: f.position)]
    return []


class _SqlProfile(_Profile):
    """Counts run in the department's database, over a LIMIT-ed sample when the table is large."""

    def __init__(self, connector: SqlConnector, stream: Stream) -> None:
        self.connector, self.table = connector, connector.table(stream)
        total = connector.estimate(stream) or 0
        self.sampled = total > SAMPLE_ROWS
        self.rows = min(total, SAMPLE_ROWS)
        self.basis = (f"a sample of the first {SAMPLE_ROWS:,} of {total:,} rows of table {self.table.name}"
                      if self.sampled else f"{_rows(total)} of table {self.table.name}")
        self._sample: dict[tuple[str, ...], sa.Subquery] = {}

    def schema(self) -> list[tuple[str, pa.DataType]]:
        # Types that travel as text but are not text in the database (JSON, arrays, intervals) may have no
        # equality or length() there: they are left out (null type) instead of failing the whole query.
        return [(str(c.name), arrow_type(c.type) if isinstance(c.type, sa.String | sa.Integer | sa.Numeric | sa.Uuid)
                 else pa.null()) for c in self.table.columns]

    def sample(self, names: list[str]) -> sa.Subquery:
        query = sa.select(*(self.table.c[n] for n in names))
        return (query.limit(SAMPLE_ROWS) if self.sampled else query).subquery("sample")

    def _run(self, query: sa.Select) -> sa.Row:
        try:
            with self.connector.engine.connect() as con:
                return con.execute(query).one()
        except sa.exc.SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise ConnectorError(self.connector.redact(f"{self.connector.where}: cannot profile the columns of "
                                                       f"{self.table.name!r} in {self.connector.safe_url}: {detail}")) from None

    def facts(self, names: list[str]) -> list[_Facts]:
        if not names:
            return []
        sample = self.sample(names)
        measures = []
        for n in names:
            type_ = self.table.c[n].type
            width = (sa.func.max(sa.func.length(sample.c[n])) if isinstance(type_, sa.String)
                     else sa.literal(36 if isinstance(type_, sa.Uuid) else 8))
            measures += [sa.func.count(sample.c[n]), sa.func.count(sa.distinct(sample.c[n])), width]
        row = self._run(sa.select(*measures))
        positions = {c.name: i for i, c in enumerate(self.table.columns)}
        return [_Facts(n, row[3 * i], row[3 * i + 1], int(row[3 * i + 2] or 0), bool(ID_LIKE.search(n)), positions[n])
                for i, n in enumerate(names)]

    def distinct_pair(self, a: str, b: str) -> int:
        sample = self.sample([a, b])
        return self._run(sa.select(sa.func.count()).select_from(
            sa.select(sample.c[a], sample.c[b]).distinct().subquery("pairs")))[0]

    def duplicates_and_nulls(self, key: list[str]) -> tuple[int, int]:
        sample = self.sample(key)
        distinct = self._run(sa.select(sa.func.count()).select_from(
            sa.select(*(sample.c[k] for k in key)).distinct().subquery("keys")))[0]
        nulls = self._run(sa.select(sa.func.count()).select_from(sample).where(
            sa.or_(*(sample.c[k].is_(None) for k in key))))[0]
        return self.rows - distinct, nulls


class _ArrowProfile(_Profile):
    """Counts over rows already read (a drop folder's first file, at most SAMPLE_ROWS of it)."""

    def __init__(self, table: pa.Table, basis: str, sampled: bool) -> None:
        # A drop file writes an empty cell as "": for a key that is as empty as NULL.
        self.table = pa.table({n: pc.if_else(pc.equal(c, ""), pa.scalar(None, c.type), c) if pa.types.is_string(c.type)
                               else c for n, c in zip(table.column_names, table.columns)})
        self.rows, self.basis, self.sampled = table.num_rows, basis, sampled

    def facts(self, names: list[str]) -> list[_Facts]:
        found = []
        for n in names:
            column = self.table.column(n)
            width = pc.max(pc.utf8_length(column)).as_py() if pa.types.is_string(column.type) else 8
            found.append(_Facts(n, len(column) - column.null_count, pc.count_distinct(column, mode="only_valid").as_py(),
                                width or 0, bool(ID_LIKE.search(n)), self.table.column_names.index(n)))
        return found

    def distinct_pair(self, a: str, b: str) -> int:
        return self.table.select([a, b]).group_by([a, b]).aggregate([]).num_rows

    def duplicates_and_nulls(self, key: list[str]) -> tuple[int, int]:
        keys = self.table.select(key)
        nulls = sum(1 for row in zip(*(keys.column(k).is_null().to_pylist() for k in key)) if any(row))
        return self.rows - keys.group_by(key).aggregate([]).num_rows, nulls


def _file_profile(connector: FilesConnector, stream: Stream) -> _ArrowProfile | None:
    files = connector.files(stream)
    if not files:
        return None
    batches, rows = [], 0
    for batch in connector.read_file(files[0], stream, RejectList()):
        batches.append(batch.slice(0, SAMPLE_ROWS - rows))
        rows += batches[-1].num_rows
        if rows >= SAMPLE_ROWS:
            break
    schema = connector.schema_of(stream)
    table = pa.Table.from_batches(batches, schema=batches[0].schema) if batches else schema.empty_table()
    sampled = rows >= SAMPLE_ROWS
    basis = f"the first {rows:,} rows of {files[0].name}" if sampled else f"the {_rows(rows)} of {files[0].name}"
    return _ArrowProfile(table, basis, sampled)


def _profile(connector: Connector, stream: Stream) -> tuple[_Profile, list[tuple[str, pa.DataType]]] | None:
    if isinstance(connector, SqlConnector):
        profile = _SqlProfile(connector, stream)
        return profile, profile.schema()
    if isinstance(connector, FilesConnector):
        found = _file_profile(connector, stream)
        return None if found is None else (found, list(zip(found.table.column_names, found.table.schema.types)))
    return None  # an API is paged and rate-limited: not read just to guess a key


def _constraint(profile: _Profile) -> list[str]:
    """The primary key the database declares for the table (a stream's key is only what its file says)."""
    return [str(c.name) for c in profile.table.primary_key.columns] if isinstance(profile, _SqlProfile) else []


def propose_key(connector: Connector, stream: Stream) -> KeyProposal | None:
    """A key for a stream that declares none, from its data; None when the source cannot be profiled
    (a drop folder without a file yet, a kind other than sql or files)."""
    found = _profile(connector, stream)
    if found is None:
        return None
    profile, schema = found
    constraint = _constraint(profile)
    if constraint:
        return KeyProposal(constraint, profile.rows, profile.basis, profile.sampled, str(profile.table.name))
    columns = _choose(profile, _candidates(schema, stream.cursor)) if profile.rows else []
    return KeyProposal(columns, profile.rows, profile.basis, profile.sampled)


def check_key(connector: Connector, stream: Stream) -> KeyCheck | None:
    """Whether the stream's declared key is unique and not null in its data (bounded as proposals are)."""
    found = _profile(connector, stream) if stream.primary_key else None
    if found is None:
        return None
    profile, schema = found
    missing = [k for k in stream.primary_key if k not in {name for name, _ in schema}]
    if missing or not profile.rows:
        return None  # a key naming no column is the department file's error, reported by validation and loads
    if _constraint(profile) == list(stream.primary_key):  # the database already refuses duplicates and NULLs
        return KeyCheck(list(stream.primary_key), profile.rows, 0, 0, profile.basis, profile.sampled)
    duplicates, nulls = profile.duplicates_and_nulls(list(stream.primary_key))
    return KeyCheck(list(stream.primary_key), profile.rows, duplicates, nulls, profile.basis, profile.sampled)


def key_advice(proposal: KeyProposal | None, incremental: bool) -> str:
    """What to do about a stream without a key: the proposal (or why there is none) and, for an incremental
    stream, what happens if nothing is done. One line: it goes into a YAML comment as it is."""
    found = proposal.describe() if proposal else "no key proposed: the source cannot be read for one"
    what = "set it" if proposal and proposal.columns else "ask the department which columns identify a row and set them"
    then = f"; {what}, or incremental loads append updated rows as duplicates" if incremental else ""
    return " ".join(f"{found}{then}".split())
