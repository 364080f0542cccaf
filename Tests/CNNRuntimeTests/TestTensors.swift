@testable import CNNRuntime

extension Tensor {
    /// Deterministic values in [-1, 1) from a seed (a linear congruential generator).
    static func deterministic(_ shape: [Int], seed: UInt64) -> Tensor {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
        return Tensor(shape: shape, floats: values)
    }
}
