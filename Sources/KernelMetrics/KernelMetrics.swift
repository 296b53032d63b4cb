// SPEC §11 metrics.
