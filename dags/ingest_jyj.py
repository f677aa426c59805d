"""Airflow DAG ingest_jyj: 大竹县教育科技局's loads (written by `countyhub dags write` from departments/jyj.yml)."""

from countyhub_wiring import ingest_dag

dag = ingest_dag("jyj")
