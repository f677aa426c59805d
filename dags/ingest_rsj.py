"""Airflow DAG ingest_rsj: 大竹县人力资源和社会保障局's loads (written by `countyhub dags write` from departments/rsj.yml)."""

from countyhub_wiring import ingest_dag

dag = ingest_dag("rsj")
