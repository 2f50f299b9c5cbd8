-- A failure means a parcel counts as delivered with no delivery scan: delivery times and
-- on-time delivery would silently skip it.
select shipment_id, shipment_status, delivered_at
from {{ ref('fct_shipments') }}
where shipment_status = 'delivered' and delivered_at is null
