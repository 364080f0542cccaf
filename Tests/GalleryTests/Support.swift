import Foundation
@testable import Gallery

/// A seeded generator, so random test data is the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random embedding of dlib's scale (components ~±0.1, norm ~1).
func randomEmbedding(_ rng: inout SplitMix) -> [Float] {
    (0..<Embedding.dimension).map { _ in Float.random(in: -0.17...0.17, using: &rng) }
}

let modelA = String(repeating: "a1", count: 32)
let modelB = String(repeating: "b2", count: 32)

/// A fresh path in a temporary folder, removed by `cleanUp`.
final class TempDir {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "gallery-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
