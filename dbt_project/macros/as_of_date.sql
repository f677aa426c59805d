{#- The day eligibility and ages are judged on: the build date, or var('as_of_date') (unit tests pin it). -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%} cast('{{ var("as_of_date") }}' as date)
    {%- else -%} current_date
    {%- endif -%}
{%- endmacro %}

{#- Whole months from a birth date to a day (a month is complete on the same day of the month). -#}
{% macro full_months_between(start, end) -%}
    ((year({{ end }}) - year({{ start }})) * 12 + month({{ end }}) - month({{ start }})
        - case when day({{ end }}) < day({{ start }}) then 1 else 0 end)
{%- endmacro %}

{#- Whole years from a birth date to a day. -#}
{% macro full_years_between(start, end) -%}
    (year({{ end }}) - year({{ start }})
        - case when strftime({{ end }}, '%m%d') < strftime({{ start }}, '%m%d') then 1 else 0 end)
{%- endmacro %}
