-- A failure means the routing action would pick a warehouse for a cancelled order, or for an
-- order Amazon ships itself (FBA) or known only from an export snapshot: goods would ship
-- that nobody should receive.
select order_id, source_system, fulfillment_channel, is_cancelled
from {{ ref('fct_orders') }}
where is_awaiting_shipment
    and (is_cancelled or source_system = 'file_import' or fulfillment_channel = 'AFN')
