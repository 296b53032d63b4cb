import Foundation
import Synchronization

/// Set once SIGINT or SIGTERM arrives; the loops poll it between steps so the producer can stop
/// cleanly (print its counts) instead of dying in the middle of a Redis call.
final class StopSignal: Sendable {
    private let raised = Atomic<Bool>(false)
    // The dispatch sources must live as long as the process; they are only touched here.
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    init() {
        for number in [SIGINT, SIGTERM] {
            // Ignore the default action (terminate) and handle the signal on a queue instead.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.raised.store(true, ordering: .relaxed) }
            source.resume()
            sources.append(source)
        }
    }

    var isRaised: Bool { raised.load(ordering: .relaxed) }
}
