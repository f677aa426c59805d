"""Sharing types, classifications and zones are defined once (countyhub.core.vocab) and every layer uses them."""

from __future__ import annotations

from typing import get_args

from countyhub import lakehouse
from countyhub.catalog import entry, store
from countyhub.contracts import odcs
from countyhub.core import departments, masking, vocab


def test_every_layer_uses_the_one_definition() -> None:
    assert odcs.CLASSIFICATIONS is entry.CLASSIFICATIONS is store.CLASSIFICATIONS is vocab.CLASSIFICATIONS
    assert odcs.SHARING_TYPES is entry.SHARING_TYPES is store.SHARING_TYPES is vocab.SHARING_TYPES
    assert lakehouse.ZONES is vocab.ZONES
    assert masking.MASKED_CLASSIFICATIONS == set(vocab.MASKED) <= set(vocab.CLASSIFICATIONS)


def test_department_files_accept_exactly_the_vocabulary() -> None:
    fields = departments.Department.model_fields
    assert get_args(fields["sharing_type"].annotation) == vocab.SHARING_TYPES
    assert get_args(departments.Stream.model_fields["classification"].annotation) == vocab.CLASSIFICATIONS
    # Ordered least to most restricted: a contract's dataset level is the max of its columns' by this order.
    assert vocab.CLASSIFICATIONS == ("public", "internal", "sensitive", "secret")
