"""Stream options: the flat keys a stream takes in a department file besides the core ones, typed per kind."""

from __future__ import annotations

from typing import Annotated, Self

import pyarrow as pa
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, field_validator

from countyhub.connectors.declared import arrow_type
from countyhub.connectors.errors import ConnectorError
from countyhub.core.departments import Stream


def _known_type(name: str) -> str:
    arrow_type(name)  # raises ValueError naming the type and the ones that exist
    return name


# A declared column type (`integer`, `decimal(12,2)`, ...), checked when the department file is.
DeclaredType = Annotated[str, AfterValidator(_known_type)]


class StreamOptions(BaseModel):
    """Options every kind takes: the loader applies them to any connector's batches.

    A connector subclasses this with its own keys (`table`, `pattern`, `path`, ...) and sets it as the
    connector's `Options`; unknown keys are an error, so a misspelt option fails `sources validate`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    # Types for text sources, e.g. {月发放金额: "decimal(10,2)"}: a value that does not fit goes to quarantine.
    types: dict[str, DeclaredType] = {}
    # The stream's whole shape: {name: type} or a list of text columns.
    columns: dict[str, str | None] | list[str] | None = None
    # Columns holding resident ID numbers (default: columns named like 身份证号 or id_number).
    id_number_columns: list[str] | None = None

    @field_validator("columns")
    @classmethod
    def _known_column_types(cls, value: dict[str, str | None] | list[str] | None) -> object:
        if isinstance(value, dict):
            for type_ in value.values():
                arrow_type(type_ or "text")
        return value

    @classmethod
    def of(cls, stream: Stream, where: str = "") -> Self:
        """The stream's options as this model; ConnectorError naming the stream and the field if they do not fit."""
        return cls._parse(stream.options, stream.name, where)

    @classmethod
    def shared(cls, stream: Stream, where: str = "") -> StreamOptions:
        """Only the options every kind takes: for the loader, which does not know the stream's kind."""
        common = {k: v for k, v in stream.options.items() if k in StreamOptions.model_fields}
        return StreamOptions._parse(common, stream.name, where)

    @classmethod
    def _parse(cls, options: dict[str, object], stream: str, where: str) -> Self:
        try:
            return cls.model_validate(options)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConnectorError(f"{where + ': ' if where else ''}stream {stream!r}: {problems}") from None

    def declared_schema(self) -> pa.Schema | None:
        """The schema `columns:` declares, or None when the department file declares none."""
        if not self.columns:
            return None
        if isinstance(self.columns, dict):
            return pa.schema([(name, arrow_type(type_ or "text")) for name, type_ in self.columns.items()])
        return pa.schema([(name, pa.string()) for name in self.columns])

    def arrow_types(self) -> dict[str, pa.DataType]:
        """`types:` as Arrow types."""
        return {column: arrow_type(type_) for column, type_ in self.types.items()}


class OpenStreamOptions(StreamOptions):
    """The default for a connector that declares no options model: any key is accepted (in `model_extra`)."""

    model_config = ConfigDict(extra="allow", frozen=True)
