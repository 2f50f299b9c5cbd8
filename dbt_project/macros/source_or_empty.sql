{#- A raw table with the `loaded_at` of each row, or an empty stand-in with the columns its
    sources YAML declares.

    `loaded_at` is when the dlt load that wrote the row finished (`_dlt_loads.inserted_at` of
    the row's `_dlt_load_id`). Incremental models pick what changed by it, not by the sources'
    own timestamps (DECISIONLOG.md, "History and increments"). Rows loaded before dlt wrote
    `_dlt_load_id` on Arrow rows (ingestion/common/pipeline.py), or a table without the column,
    read as null: already built, so rebuilt only by a full refresh or a later load of them.

    Sources load on their own schedule and some only when configured (Shopify finance, file
    drops, Amazon): a staging view over a table dlt has not created yet would fail the whole
    `dbt build`. The stand-in keeps every downstream model buildable, with zero rows from that
    source, and the columns typed as the YAML says (so unions and contracts still type-check).
    Outside execution (parse, compile for docs) it returns the plain source(). -#}
{% macro source_or_empty(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set found = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
    {%- if found is not none -%}
        {%- set columns = adapter.get_columns_in_relation(found) | map(attribute='name') | list -%}
        {%- set loads = adapter.get_relation(relation.database, relation.schema, '_dlt_loads') -%}
        {%- if '_dlt_load_id' in columns and loads is not none -%}
            {%- set loaded -%}
            (select raw_rows.*, loads.inserted_at as loaded_at
            from {{ relation }} as raw_rows
            left join (select load_id, max(inserted_at) as inserted_at from {{ loads }} where status = 0 group by load_id) as loads
                on loads.load_id = raw_rows._dlt_load_id) as loaded_rows
            {%- endset -%}
        {%- else -%}
            {%- set loaded -%}
            (select raw_rows.*, cast(null as {{ type_timestamp_tz() }}) as loaded_at
            from {{ relation }} as raw_rows) as loaded_rows
            {%- endset -%}
        {%- endif -%}
        {{ return(loaded) }}
    {%- endif -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
                   | selectattr('name', 'equalto', table_name) | first -%}
    {%- set columns = node.columns.values() | list -%}
    {%- if not columns -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ source_name ~ "." ~ table_name ~ " is missing and its YAML declares no columns") }}
    {%- endif -%}
    {%- set stand_in -%}
    (select
        {%- for column in columns %}
        cast(null as {{ column.data_type }}) as {{ column.name }},
        {%- endfor %}
        cast(null as {{ type_timestamp_tz() }}) as loaded_at
    where 1 = 0) as loaded_rows
    {%- endset -%}
    {{ return(stand_in) }}
{%- endmacro %}
