{#- A date as schools and bureaus type it: 2020-03-05, 2020/3/5, 2020.3.5, 2020年3月5日, or an Excel serial day. -#}
{% macro school_date(column) -%}
    coalesce(
        try_strptime(trim(cast({{ column }} as varchar)), '%Y-%m-%d'),
        try_strptime(trim(cast({{ column }} as varchar)), '%Y/%m/%d'),
        try_strptime(trim(cast({{ column }} as varchar)), '%Y.%m.%d'),
        try_strptime(trim(cast({{ column }} as varchar)), '%Y年%m月%d日'),
        case when regexp_full_match(trim(cast({{ column }} as varchar)), '[1-9][0-9]{4}')
            then date '1899-12-30' + cast(trim(cast({{ column }} as varchar)) as integer) end
    )::date
{%- endmacro %}
