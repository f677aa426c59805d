{#- Use a model's custom schema as-is (`staging`, not `audit_staging`): schemas are the lake's zones. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
