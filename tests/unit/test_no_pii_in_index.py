"""No ID number or phone typed into any text of an entry reaches the catalog's store, search index or search results."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from countyhub.catalog import tables as t
from countyhub.catalog.store import Catalog, Column, DatasetEntry

ID, PHONE = "511724199001011234", "13812345678"


def _entry() -> DatasetEntry:
    return DatasetEntry(
        name="shared.pii_probe", kind="published", title_zh=f"核验 {ID}", title_en="probe",
        department_code="gaj", department_name="公安局", sharing_type="conditional", classification="sensitive",
        description=f"例如 {ID}，联系 {PHONE}", keywords=[f"身份证{ID}", "户籍"], themes=[PHONE],
        columns=[Column("id_number", "VARCHAR", f"居民身份证号码，如 {ID}", "sensitive"),
                 Column("phone", "VARCHAR", f"手机 {PHONE}", "sensitive")],
        sample_rows=[{"id_number": ID, "phone": PHONE}], legal_basis=f"依据 {ID}",
        contact=PHONE, steward="张三")


def test_typed_pii_is_masked_everywhere_the_catalog_keeps_text(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}", index_dir=tmp_path / "search-index")
    catalog.register_dataset(_entry())
    with catalog.engine.connect() as con:
        stored, stored_terms = con.execute(select(t.datasets.c.entry_json, t.datasets.c.search_terms)).one()
    assert ID not in stored and PHONE not in stored
    assert "户籍" in stored_terms and ID not in stored_terms and "199001011234" not in stored_terms
    assert json.loads(stored)["columns"][0]["description"].startswith("居民身份证号码")
    terms = " ".join(catalog.index._postings)  # what a search can ever match on
    assert ID not in terms and PHONE not in terms and "199001011234" not in terms
    for query in (ID, PHONE, "199001011234"):
        assert catalog.search(query) == []
    assert [h["name"] for h in catalog.search("户籍")] == ["shared.pii_probe"]
    saved = b"".join(p.read_bytes() for p in (tmp_path / "search-index").rglob("*") if p.is_file())
    assert b"shared.pii_probe" in saved  # the saved index was written ...
    for secret in (ID, PHONE, "199001011234"):  # ... and holds no ID or phone number in any file
        assert secret.encode() not in saved
