-- Databases of the scale-out deployment (docker-compose.yml): Airflow's is created by the image.
CREATE DATABASE lake OWNER countyhub;
CREATE DATABASE catalog OWNER countyhub;
