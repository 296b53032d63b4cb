/// What the stages of one pipeline share: the queues between them, the entries in flight, the
/// flags that end them and the counters. `IngestPipeline` builds it once and hands it to every
/// stage, so a stage's initializer names only what is its own.
struct PipelineWiring: Sendable {
    /// Reader → processors: entries read, weighed by count (`postgres.queue_size`).
    let entries: BlockingQueue<[StreamEntry]>
    /// Processors → writers: cut batches.
    let batches: BlockingQueue<PendingBatch>
    /// Everyone → acknowledger: what to XACK, and dead letters to XADD first.
    let acks: BlockingQueue<AckWork>
    /// Entries handed to the pipeline and not yet acknowledged.
    let inflight: InflightSet
    /// Readers stop reading (the first step of shutdown).
    let stop: StopFlag
    /// Shutdown ran out of time: writers and the acknowledger stop retrying. What they held stays
    /// pending in Redis and is redelivered (and stored once) after a restart.
    let abandon: StopFlag
    let metrics: PipelineMetrics
}
