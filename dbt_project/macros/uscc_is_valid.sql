{#-
    GB 32100 unified social credit code (统一社会信用代码) check, in SQL: TRUE when `code` is a valid code,
    FALSE when not, NULL when NULL. Mirrors stdnum.cn.uscc.is_valid and the gate's vectorized rule
    (contracts/rules/cn_ids.py): spaces and dashes removed, upper-cased, 18 characters of the code alphabet
    (no I, O, S, V, Z), the first 8 digits, and the 18th the check character of the first 17 with weights
    3^i mod 31. tests/unit/test_uscc_macro.py proves the agreement on valid and corrupted codes.
    The sum is unrolled at compile time (17 terms) rather than a list lambda: plain SQL every engine
    version parses the same way.
-#}
{% macro uscc_is_valid(code) -%}
    {%- set alphabet = "'0123456789ABCDEFGHJKLMNPQRTUWXY'" -%}
    {%- set weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] -%}
    {#- stdnum's compact: spaces and dashes out, upper-cased, surrounding whitespace stripped. -#}
    {%- set compact = "upper(regexp_replace(cast(" ~ code ~ " as varchar), '^\\s+|\\s+$|[ -]', '', 'g'))" -%}
    (case
        when {{ code }} is null then null
        when not regexp_full_match({{ compact }}, '[0-9]{8}[0-9A-HJ-NP-RTUW-Y]{10}') then false
        else
            strpos({{ alphabet }}, substr({{ compact }}, 18, 1)) - 1 = (31 - ((
                {%- for weight in weights %}
                {{ weight }} * (strpos({{ alphabet }}, substr({{ compact }}, {{ loop.index }}, 1)) - 1)
                {%- if not loop.last %} +{% endif %}
                {%- endfor %}
            ) % 31)) % 31
    end)
{%- endmacro %}
