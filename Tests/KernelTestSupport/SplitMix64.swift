import KernelRuntime

/// The runtime's seeded generator, for tests that generate inputs: a failure names a seed whose
/// input can be replayed.
public typealias SplitMix64 = KernelRuntime.SplitMix64
