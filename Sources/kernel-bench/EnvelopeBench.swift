import KernelEvents
import KernelJSON

/// `kernel-bench envelope`: the processor's envelope check (`EventEnvelope.parse`, the envelope
/// check of docs/producers.md "What the kernel refuses") per event, and the share of it that refuses invalid UTF-8, `\u0000` and lone-surrogate
/// escapes (two passes over the whole entry, docs/producers.md "What the kernel refuses"), on the
/// drain's trade, quote and book events plus one with non-ASCII text. Thread CPU time.
struct EnvelopeBench {
    var parsesPerKind: Int

    func run() {
        print("envelope check (one thread, \(parsesPerKind) parses per kind, thread CPU time)")
        print("kind      bytes  parse ns/event  of which text checks ns/event")
        var random = SeededRandom(seed: 7)
        var subjects: [String: [EventUUIDText]] = [:]
        for family in ["trade", "quote", "book"] {
            subjects[family] = MarketEventFactory.symbols.map { _ in
                let id = random.uuid()
                return EventUUIDText(text: id.text, bytes: id.bytes)
            }
        }
        var kinds: [(String, [[UInt8]])] = []
        for (family, mix) in [("trade", MarketEventFactory.Mix.tradeOnly), ("quote", .init(trade: 0, quote: 100, book: 0)),
                              ("book", .init(trade: 0, quote: 0, book: 100))] {
            var factory = MarketEventFactory(seed: 11, mix: mix, subjects: subjects)
            kinds.append((family, (0..<1000).map { Array(factory.next(tsMicros: 1_764_081_000_000_000 + Int64($0)).envelope.utf8) }))
        }
        // A name in Japanese (480 bytes of three-byte characters): the text check's slow path.
        let name = String(repeating: "東京証券取引所 ", count: 20)
        kinds.append(("non-ascii", kinds[0].1.map { event in
            Array(String(decoding: event, as: UTF8.self).replacingOccurrences(of: #""venue":"XNAS""#,
                                                                              with: #""venue":"XNAS","name":"\#(name)""#).utf8)
        }))
        for (kind, events) in kinds {
            let passes = max(1, parsesPerKind / events.count)
            var accepted = 0, sink = 0
            for event in events.prefix(100) { _ = try? EventEnvelope.parse(event) }
            let t0 = threadCPUSeconds()
            for _ in 0..<passes {
                for event in events { if (try? EventEnvelope.parse(event)) != nil { accepted += 1 } }
            }
            let parse = threadCPUSeconds() - t0
            let t1 = threadCPUSeconds()
            for _ in 0..<passes {
                for event in events {
                    event.withUnsafeBytes { raw in
                        sink &+= UTF8Text.firstInvalidOffset(in: raw) ?? 1
                        sink &+= JSONScanner.firstSuspectEscape(in: raw)?.offset ?? 1
                    }
                }
            }
            let text = threadCPUSeconds() - t1
            let n = Double(passes * events.count)
            let bytes = events.reduce(0) { $0 + $1.count } / events.count
            print([kind.padding(9), String(bytes).leftPad(6), String(Int(parse / n * 1e9)).leftPad(15),
                   String(Int(text / n * 1e9)).leftPad(30)].joined(separator: " ")
                  + (accepted == Int(n) ? "" : "  (\(Int(n) - accepted) refused!)") + (sink == 42 ? " " : ""))
        }
    }
}
