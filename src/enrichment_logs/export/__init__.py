"""Export: what turns finished tool-call spans into rows of the `enrichment_logs` table.

One job per module, in the order a span travels:

- `mapping`: a span becomes one row (or none); pure, and nothing a span carries makes it raise.
- `batch_processor`: `SpoolingBatchProcessor` queues tool-call spans off the pipeline's thread
  and exports them in batches; a full queue drops and counts, never blocks.
- `exporter`: `DuckDBSpanExporter` writes each batch to the spool, then ingests every pending
  segment; also the OpenTelemetry entry point `duckdb`.
- `spool`: the write-ahead log, one durable JSON-lines segment per batch.
- `duckdb_store`: opens and migrates the DuckDB file (`schema/*.sql`, the table's only
  definition) and inserts segments idempotently by row id.
"""
