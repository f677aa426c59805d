{#-
  The rows of the newest load. Each load replaces a stream with a full snapshot of the source
  (lakehouse/load.py), so the newest load is the current state. Nothing is deduplicated: a key that
  appears twice in one load is a source problem, and the unique test on the model reports it.
-#}
{% macro latest_load(relation) -%}
select *
from {{ relation }}
where loaded_at = (select max(loaded_at) from {{ relation }})
{%- endmacro %}
