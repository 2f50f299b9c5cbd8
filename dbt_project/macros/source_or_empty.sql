{#- A raw table, or an empty stand-in with the columns its sources YAML declares.

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
        {{ return(relation) }}
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
        cast(null as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
        {%- endfor %}
    where 1 = 0)
    {%- endset -%}
    {{ return(stand_in) }}
{%- endmacro %}
