"""Airflow DAG ingest_mzj: 大竹县民政局's loads (written by `countyhub dags write` from departments/mzj.yml)."""

from countyhub_wiring import ingest_dag

dag = ingest_dag("mzj")
