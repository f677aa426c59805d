"""DCAT-AP export of the whole catalog (Turtle, JSON-LD) with rdflib; county-specific fields in their own namespace."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, SKOS

from countyhub.catalog.i18n import LABELS
from countyhub.catalog.text import HAN

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
CH = Namespace("https://countyhub.example/ns#")
EU = "http://publications.europa.eu/resource/authority/"
FORMATS = {"ttl": ("turtle", "text/turtle; charset=utf-8"), "jsonld": ("json-ld", "application/ld+json")}
# DCAT-AP wants the EU controlled vocabularies for access rights and frequency.
ACCESS_RIGHTS = {"unconditional": "PUBLIC", "conditional": "RESTRICTED", "not_shared": "NON_PUBLIC"}
FREQUENCY = {"@hourly": "HOURLY", "hourly": "HOURLY", "@daily": "DAILY", "daily": "DAILY", "每日": "DAILY",
             "@weekly": "WEEKLY", "weekly": "WEEKLY", "每周": "WEEKLY", "@monthly": "MONTHLY", "monthly": "MONTHLY",
             "每月": "MONTHLY", "@yearly": "ANNUAL", "yearly": "ANNUAL", "每年": "ANNUAL"}
MODE_FORMAT = {"query": "SQL", "api": "JSON", "download": "PARQUET"}


def _lit(text: str) -> Literal:
    return Literal(text, lang="zh" if HAN.search(text) else "en")


def _frequency(cycle: str) -> URIRef | None:
    for token in cycle.lower().split():
        if token in FREQUENCY:
            return URIRef(f"{EU}frequency/{FREQUENCY[token]}")
    return None


def _date(value: Any, kind: URIRef) -> Literal | None:
    if not value:
        return None
    if isinstance(value, datetime):
        value = value.isoformat(timespec="seconds")
    return Literal(str(value)[:10] if kind == XSD.date else str(value), datatype=kind)


def _dataset(g: Graph, base: str, e: dict[str, Any]) -> URIRef:
    ds = URIRef(f"{base}datasets/{quote(e['name'])}")
    add = g.add
    add((ds, RDF.type, DCAT.Dataset))
    add((ds, DCTERMS.identifier, Literal(e.get("resource_code") or e["name"])))
    add((ds, CH.tableName, Literal(e["name"])))
    add((ds, DCTERMS.title, Literal(e.get("title_zh") or e["name"], lang="zh")))
    if e.get("title_en"):
        add((ds, DCTERMS.title, Literal(e["title_en"], lang="en")))
    if e.get("description"):
        add((ds, DCTERMS.description, _lit(e["description"])))
    org = URIRef(f"{base}departments/{quote(e['department_code'])}")
    add((ds, DCTERMS.publisher, org))
    add((org, RDF.type, FOAF.Organization))
    add((org, FOAF.name, _lit(e.get("department_name") or e["department_code"])))
    add((org, DCTERMS.identifier, Literal(e["department_code"])))
    for kw in e.get("keywords", []):
        add((ds, DCAT.keyword, _lit(kw)))
    for theme in e.get("themes", []):
        concept = URIRef(f"{base}themes/{quote(theme)}")
        add((ds, DCAT.theme, concept))
        add((concept, RDF.type, SKOS.Concept))
        add((concept, SKOS.prefLabel, _lit(theme)))
    for pred, value, kind in ((DCTERMS.issued, e.get("issued"), XSD.date),
                              (DCTERMS.modified, e.get("modified"), XSD.dateTime)):
        lit = _date(value, kind)
        if lit is not None:
            add((ds, pred, lit))
    freq = _frequency(e.get("update_cycle", ""))
    if freq is not None:
        add((ds, DCTERMS.accrualPeriodicity, freq))
    add((ds, DCTERMS.accessRights, URIRef(f"{EU}access-right/{ACCESS_RIGHTS[e['sharing_type']]}")))
    if e.get("steward") or e.get("contact"):
        contact = BNode()
        add((ds, DCAT.contactPoint, contact))
        add((contact, RDF.type, VCARD.Kind))
        add((contact, VCARD.fn, _lit(e.get("steward") or e.get("department_name", ""))))
        if "@" in e.get("contact", ""):
            add((contact, VCARD.hasEmail, URIRef(f"mailto:{e['contact']}")))
    if e.get("contract"):
        add((ds, DCTERMS.conformsTo, URIRef(f"{base}contracts/{quote(e['contract'])}")))
    for version in (e.get("contract_version"),):
        if version:
            add((ds, OWL.versionInfo, Literal(str(version))))
    for up in e.get("upstream", []):
        add((ds, PROV.wasDerivedFrom, URIRef(f"{base}datasets/{quote(up)}")))
    for rel in e.get("related", []):
        add((ds, DCTERMS.relation, URIRef(f"{base}datasets/{quote(rel)}")))
    for mode in e.get("sharing_modes", []):
        dist = URIRef(f"{ds}#{mode}")
        add((ds, DCAT.distribution, dist))
        add((dist, RDF.type, DCAT.Distribution))
        url = f"{base}api/datasets/{quote(e['name'])}" if mode == "api" else str(ds)
        add((dist, DCAT.accessURL, URIRef(url)))
        add((dist, DCTERMS.format, Literal(MODE_FORMAT[mode])))
        add((dist, DCTERMS.title, Literal(mode, lang="en")))
    for key in ("sharing_type", "classification", "resource_class", "open_attribute", "kind", "gate_status"):
        if e.get(key):
            add((ds, CH[key], Literal(e[key])))
    for key in ("sharing_conditions", "legal_basis"):
        if e.get(key):
            add((ds, CH[key], _lit(e[key])))
    return ds


def build_graph(catalog: Any, base: str = "http://127.0.0.1:8080/", names: set[str] | None = None) -> Graph:
    """One dcat:Catalog holding every dataset (or those in `names`: what the caller may see); its publisher,
    contact, access rights, distributions, lineage."""
    base = base if base.endswith("/") else base + "/"
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("vcard", VCARD), ("prov", PROV),
                       ("skos", SKOS), ("owl", OWL), ("ch", CH)):
        g.bind(prefix, ns)
    cat = URIRef(f"{base}catalog")
    g.add((cat, RDF.type, DCAT.Catalog))
    g.add((cat, DCTERMS.title, Literal(LABELS["app"][0], lang="zh")))
    g.add((cat, DCTERMS.title, Literal(LABELS["app"][1], lang="en")))
    g.add((cat, DCTERMS.description, Literal(LABELS["tagline"][1], lang="en")))
    g.add((cat, FOAF.homepage, URIRef(base)))
    statuses = catalog.gate_statuses()
    for entry in catalog.entries():
        if names is not None and entry["name"] not in names:
            continue
        g.add((cat, DCAT.dataset, _dataset(g, base, entry | {"gate_status": statuses.get(entry["name"], "")})))
    return g


def export(catalog: Any, fmt: str = "turtle", base: str = "http://127.0.0.1:8080/",
           names: set[str] | None = None) -> str:
    """The catalog (or the datasets in `names`) serialized as `turtle` or `json-ld`."""
    return build_graph(catalog, base, names).serialize(format=fmt)
