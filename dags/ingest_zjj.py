"""Airflow DAG ingest_zjj: 大竹县住房和城乡建设局's loads (written by `countyhub dags write` from departments/zjj.yml)."""

from countyhub_wiring import ingest_dag

dag = ingest_dag("zjj")
