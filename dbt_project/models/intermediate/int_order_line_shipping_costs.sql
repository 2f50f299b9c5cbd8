-- What each order line bears of its order's carrier costs, exactly, in the cost's own currency:
-- `shipping` (label postage and platform fees) and `duties` (duties and import taxes the carrier
-- billed for DDP parcels), one row per line, kind and currency.
-- Rule (DECISIONLOG.md): an order's costs of one kind and currency are summed over its labels
-- and split over all its lines by net line amount (equally when the order's net is zero), in
-- whole minor units of the currency: each line gets the floor of its share, and the cents
-- floored away go one each to the lines with the largest remainders (ties by line id), so the
-- lines add up to the order's cost to the cent (singular test
-- assert_shipping_costs_allocate_exactly). Labels are not split per parcel: the label platform
-- does not say which lines a parcel carried.
with

labels as (

    select * from {{ ref('fct_shipping_costs') }}
    where order_id is not null

),

costs as (

    select order_id, 'shipping' as cost_kind, shipping_cost_currency_code as currency_code,
        sum(shipping_cost_amount) as cost_amount
    from labels
    group by order_id, shipping_cost_currency_code
    union all
    select order_id, 'duties' as cost_kind, duties_currency_code as currency_code,
        sum(duties_amount) as cost_amount
    from labels
    where duties_amount is not null
    group by order_id, duties_currency_code

),

currencies as (

    select
        currency_code,
        case minor_units when 0 then 1 when 1 then 10 when 3 then 1000 when 4 then 10000 else 100 end
            as units_per_major,
        -- The minor unit as an exact decimal: multiplying by it never goes through a DOUBLE.
        cast(
            case minor_units when 0 then 1 when 1 then 0.1 when 3 then 0.001 when 4 then 0.0001 else 0.01 end
            as decimal(5, 4)
        ) as minor_unit
    from {{ ref('ref_currencies') }}

),

lines as (

    select
        order_line_id,
        order_id,
        net_amount,
        sum(net_amount) over (partition by order_id) as order_net_amount
    from {{ ref('fct_order_lines') }}
    where order_id in (select order_id from costs)

),

weighted as (

    select
        lines.order_line_id,
        lines.order_id,
        costs.cost_kind,
        costs.currency_code,
        currencies.minor_unit,
        cast(costs.cost_amount * currencies.units_per_major as bigint) as cost_minor,
        case when lines.order_net_amount > 0 then lines.net_amount else 1 end as weight,
        case
            when lines.order_net_amount > 0 then lines.order_net_amount
            else count(*) over (partition by lines.order_id, costs.cost_kind, costs.currency_code)
        end as total_weight
    from costs
    inner join lines on costs.order_id = lines.order_id
    inner join currencies on costs.currency_code = currencies.currency_code

),

floored as (

    select
        *,
        {{ allocate_minor('cost_minor', 'weight', 'total_weight') }} as floor_minor,
        {{ allocation_remainder('cost_minor', 'weight', 'total_weight') }} as remainder_rank_key
    from weighted

),

ranked as (

    select
        *,
        cost_minor - sum(floor_minor) over (partition by order_id, cost_kind, currency_code) as cents_left,
        row_number() over (
            partition by order_id, cost_kind, currency_code
            order by remainder_rank_key desc, order_line_id
        ) as remainder_rank
    from floored

),

final as (

    select
        order_line_id,
        order_id,
        cost_kind,
        currency_code,
        cast(
            cast(floor_minor + case when remainder_rank <= cents_left then 1 else 0 end as decimal(18, 0))
            * minor_unit as decimal(18, 4)
        ) as allocated_amount
    from ranked

)

select * from final
