"""The evaluation engine: scheduling, generation, the sample log, aggregation."""
