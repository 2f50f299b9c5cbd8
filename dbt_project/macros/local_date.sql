{#- The calendar date of a UTC instant in the seller's time zone (var `seller_timezone`), for
    daily grains. `at time zone` is standard SQL (DuckDB with ICU, PostgreSQL); dispatch lets a
    warehouse that spells it differently override it. -#}
{% macro local_date(instant) -%}
    {{ return(adapter.dispatch('local_date')(instant)) }}
{%- endmacro %}

{% macro default__local_date(instant) -%}
    cast(({{ instant }}) at time zone '{{ var("seller_timezone") }}' as date)
{%- endmacro %}

{% macro snowflake__local_date(instant) -%}
    cast(convert_timezone('{{ var("seller_timezone") }}', {{ instant }}) as date)
{%- endmacro %}
