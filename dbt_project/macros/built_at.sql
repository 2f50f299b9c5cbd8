{#- The `built_at` column of incremental models: when the dbt invocation that wrote the row
    started (UTC, dbt's `run_started_at`), the same for every row one build writes. Tests of
    those models read only the rows of the latest build (macro `get_where_subquery`). -#}
{% macro built_at() -%}
    cast('{{ run_started_at.isoformat() }}' as {{ type_timestamp_tz() }})
{%- endmacro %}
