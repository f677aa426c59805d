"""Airflow DAG ingest_scjgj: 大竹县市场监督管理局's loads (written by `countyhub dags write` from departments/scjgj.yml)."""

from countyhub_wiring import ingest_dag

dag = ingest_dag("scjgj")
