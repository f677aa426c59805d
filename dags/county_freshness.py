"""Airflow DAG county_freshness: shared datasets against their SLAs, hourly (written by `countyhub dags write`)."""

from countyhub_wiring import freshness_dag

dag = freshness_dag()
