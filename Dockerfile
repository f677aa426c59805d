# One image for every countyhub service past one machine: Airflow (api-server, scheduler,
# dag-processor, triggerer, Celery workers) and the catalog, all running the same code.
FROM python:3.11-slim
WORKDIR /opt/countyhub
COPY . .
RUN pip install --no-cache-dir -e ".[demo,cluster]" --config-settings editable_mode=lenient
ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/countyhub/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False
