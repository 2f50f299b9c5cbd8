{#- Which rows a generic test reads: dbt's `where` config, and on an incremental build only
    the rows that build brought.

    An incremental build rewrites a day's orders, not the million before them, and re-testing
    the untouched rows cost most of a new day's build (49 s of 103 s at a million orders,
    benchmarks/README.md).

    - An incremental model with a `built_at` column: the rows its latest build wrote.
      `built_at` is when the dbt invocation that wrote the row started (macro `built_at`), so
      the newest value marks exactly the rows of the latest build: a full refresh (or a first
      build) writes every row with it and its tests read the whole table. A unique test
      limited to those rows still sees every duplicate: the models delete+insert on their
      key, so a written key cannot also survive from an older build.
    - A staging view: the rows loaded since the mart was last built (`loaded_at`, macro
      `source_or_empty`, after `fct_orders`'s newest `built_at`). Staging is tested before
      the marts it feeds are rebuilt, so on `dbt build` these are the loads this build
      brings. With `--full-refresh`, or before the mart was first built, every row is read.
      A row an earlier build tested is not tested again until a full refresh.

    Tests on other models (tables rebuilt whole, intermediate views) read them whole. -#}
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
        {%- elif node and node.fqn[1] == 'staging' and not flags.FULL_REFRESH -%}
            {%- set mart = last_mart_build() -%}
            {%- if mart is not none -%}
                {%- do conditions.append('loaded_at > (select max(built_at) from ' ~ mart ~ ')') -%}
            {%- endif -%}
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

{#- `fct_orders` as built, or none before its first build. -#}
{% macro last_mart_build() -%}
    {%- set mart = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', 'fct_orders')
        | first -%}
    {%- do return(adapter.get_relation(target.database, mart.schema, mart.alias)) -%}
{%- endmacro %}
