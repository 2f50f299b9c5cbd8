"""Raw datasets loaded by the dlt sources in ``ingestion/``."""
