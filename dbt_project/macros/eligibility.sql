{#- One threshold from the eligibility_parameters seed, cast to the type the rule compares with. -#}
{% macro eligibility_parameter(name, data_type='double') -%}
    (select cast(value as {{ data_type }}) from {{ ref('eligibility_parameters') }} where parameter = '{{ name }}')
{%- endmacro %}

{#- The department whose record shows a condition holds: named exactly when it holds, null when it fails. -#}
{% macro evidence(condition, department) -%}
    (case when {{ condition }} then '{{ department }}' end)::varchar
{%- endmacro %}
