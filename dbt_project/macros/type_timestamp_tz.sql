{#- The type of every `_at` column: an instant, stored in UTC. `timestamp with time zone` is
    standard SQL (DuckDB, PostgreSQL); dbt's `type_timestamp` gives a zone-less timestamp on
    DuckDB, which a union with the raw instants would silently reinterpret. -#}
{% macro type_timestamp_tz() -%}
    {{ return(adapter.dispatch('type_timestamp_tz')()) }}
{%- endmacro %}

{% macro default__type_timestamp_tz() -%}
    timestamp with time zone
{%- endmacro %}

{% macro snowflake__type_timestamp_tz() -%}
    timestamp_tz
{%- endmacro %}
