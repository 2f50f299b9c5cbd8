-- A failure means a carrier status is missing from seed `tracking_status_map`: those parcels
-- show as `info_received` and escape the exception and on-time rates. Add the status to the
-- seed.
select shipment_id, shipment_source, shipment_status
from {{ ref('fct_shipments') }}
where is_status_unmapped
union all
select tracking_event_id, 'aftership', tracking_tag
from {{ ref('fct_tracking_events') }}
where shipment_status is null
