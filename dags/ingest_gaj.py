"""Airflow DAG ingest_gaj: 大竹县公安局's loads (written by `countyhub dags write` from departments/gaj.yml)."""

from countyhub_wiring import ingest_dag

dag = ingest_dag("gaj")
