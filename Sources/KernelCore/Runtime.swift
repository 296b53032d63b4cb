// KernelCore's public API hands out KernelRuntime types (`BlockingQueue`, `StopFlag`): its
// clients get them with `import KernelCore`, as before the runtime had a module of its own.
@_exported import KernelRuntime
