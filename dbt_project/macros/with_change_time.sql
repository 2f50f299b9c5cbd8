{#- The rows of CTE `rows` (one per `key`) with `row_hash` and `changed_at`: when the row's
    content last changed, kept from this table's previous build when it did not.

    Connectors re-load a window of recent rows on every run (Stripe a week of charges, the
    ECB a week of fixings, Shopify an hour of orders), and a re-loaded row has a new
    `loaded_at` but usually the same content. Incremental facts pick the orders whose rows
    changed after their last build by `changed_at` (macro `changed_order_ids`), so a re-load
    rewrites nothing downstream unless a value moved.

    Only a row whose `loaded_at` differs from the previous build's (a re-load, a new row) is
    hashed; the others keep their hash and `changed_at`. On a first build, or when the
    previous build had no `changed_at`, every row changed now. The table must be rebuilt whole
    (a `table` model: `this` still holds the previous build while the new one is written). -#}
{% macro with_change_time(rows, key) -%}
    {%- set previous = adapter.get_relation(this.database, this.schema, this.identifier) if execute else none -%}
    {%- set versioned = previous is not none
        and 'changed_at' in (adapter.get_columns_in_relation(previous) | map(attribute='name') | list) -%}
    {%- set content_hash = row_hash(rows) -%}
    select
        {{ rows }}.*,
        {%- if versioned %}
        case
            when previous.loaded_at = {{ rows }}.loaded_at then previous.row_hash
            else {{ content_hash }}
        end as row_hash,
        case
            when previous.loaded_at = {{ rows }}.loaded_at then previous.changed_at
            when previous.row_hash = {{ content_hash }} then previous.changed_at
            else {{ built_at() }}
        end as changed_at
    from {{ rows }}
    left join {{ previous }} as previous on previous.{{ key }} = {{ rows }}.{{ key }}
        {%- else %}
        {{ content_hash }} as row_hash,
        {{ built_at() }} as changed_at
    from {{ rows }}
        {%- endif %}
{%- endmacro %}

{#- A hash of every column of `relation` but `loaded_at` (a re-load moves it, not the
    content). DuckDB hashes the columns natively (`* exclude`); elsewhere it is the md5 of the
    row as text, `loaded_at` included, so there every re-load counts as a change: correct,
    only slower. -#}
{% macro row_hash(relation) -%}
    {{ return(adapter.dispatch('row_hash')(relation)) }}
{%- endmacro %}

{% macro default__row_hash(relation) -%}
    md5(cast(row({{ relation }}.*) as {{ dbt.type_string() }}))
{%- endmacro %}

{% macro duckdb__row_hash(relation) -%}
    hash(*columns({{ relation }}.* exclude (loaded_at)))
{%- endmacro %}
