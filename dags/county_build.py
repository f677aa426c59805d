"""Airflow DAG county_build: dbt, a gate and publish per contract, the catalog (written by `countyhub dags write`)."""

from countyhub_wiring import build_dag

dag = build_dag()
