{#- The rows of a dbt snapshot that held at `moment` (a SQL timestamp expression): "as of" questions,
    e.g. select * from {{ ref('snap_gaj__household_members') }} where {{ as_of("timestamp '2026-03-01'") }}. -#}
{% macro as_of(moment, relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    ({{ prefix }}dbt_valid_from <= {{ moment }}
    and ({{ prefix }}dbt_valid_to > {{ moment }} or {{ prefix }}dbt_valid_to is null))
{%- endmacro %}
