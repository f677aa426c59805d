"""Airflow DAG ingest_cgj: 大竹县综合行政执法局's loads (written by `countyhub dags write` from departments/cgj.yml)."""

from countyhub_wiring import ingest_dag

dag = ingest_dag("cgj")
