{#- A raw column that some connectors add and others do not (e.g. `_source_file` from drop folders). -#}
{% macro column_or_null(relation, column, data_type='varchar') -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
    {%- if column in names -%} try_cast("{{ column }}" as {{ data_type }})
    {%- else -%} cast(null as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
