-- A failure means a parcel is matched to an order placed after it shipped: the tracking
-- number was registered against the wrong order id, and order-to-ship times go negative.
select shipments.shipment_id, shipments.shipped_at, orders.ordered_at
from {{ ref('fct_shipments') }} as shipments
inner join {{ ref('fct_orders') }} as orders on shipments.order_id = orders.order_id
where shipments.shipped_at < orders.ordered_at
