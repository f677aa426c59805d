"""Airflow DAG ingest_wjj: 大竹县卫生健康局's loads (written by `countyhub dags write` from departments/wjj.yml)."""

from countyhub_wiring import ingest_dag

dag = ingest_dag("wjj")
