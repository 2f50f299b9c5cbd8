-- A failure means revenue by SKU and revenue by order disagree for a store and currency: lines
-- were lost or duplicated while uniting channels (an export and the API both contributing
-- lines to one order). Totals per channel, store and currency, exactly; never across
-- currencies.
select *
from {{ ref('rpt_totals_by_currency') }}
where line_gross_amount <> (
    select coalesce(sum(orders.line_items_amount), 0)
    from {{ ref('fct_orders') }} as orders
    where orders.channel = rpt_totals_by_currency.channel
        and orders.store_id = rpt_totals_by_currency.store_id
        and orders.currency_code = rpt_totals_by_currency.currency_code
)
