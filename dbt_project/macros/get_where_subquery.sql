{#- Which rows a generic test reads: dbt's `where` config, and for an incremental model with a
    `built_at` column only the rows the model's latest build wrote.

    An incremental build rewrites a day's orders, not the million before them, and re-testing
    the untouched rows cost most of a new day's build (49 s of 103 s at a million orders,
    benchmarks/README.md). `built_at` is when the dbt invocation that wrote the row started
    (macro `built_at`), so the newest value marks exactly the rows of the latest build:
    a full refresh (or a first build) writes every row with it and its tests read the whole
    table. A unique test limited to those rows still sees every duplicate: the models
    delete+insert on their key, so a written key cannot also survive from an older build.
    Tests on a model without `built_at` (tables rebuilt whole, views) read it all. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set conditions = [where] if where else [] -%}
    {%- if execute -%}
        {%- set node = graph.nodes.values()
            | selectattr('resource_type', 'equalto', 'model')
            | selectattr('alias', 'equalto', relation.identifier)
            | selectattr('schema', 'equalto', relation.schema)
            | first -%}
        {%- if node and node.config.materialized == 'incremental' and 'built_at' in node.columns -%}
            {%- do conditions.append('built_at = (select max(built_at) from ' ~ relation ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
