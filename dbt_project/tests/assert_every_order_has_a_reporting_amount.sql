{{ config(severity='warn') }}
-- A warning means an order's currency has no ECB fixing on or before its date (a currency the
-- ECB does not publish, or FX not loaded yet): its reporting-currency amounts are null and
-- reporting totals leave it out.
select order_id, currency_code, order_date
from {{ ref('fct_orders') }}
where total_reporting_amount is null and total_amount is not null
