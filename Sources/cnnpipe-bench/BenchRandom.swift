/// xorshift64*: fast, reproducible synthetic data.
struct BenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A random direction (roughly Gaussian components: a sum of uniforms), scaled to unit length.
    mutating func unitVector(_ out: UnsafeMutablePointer<Float>, _ n: Int) {
        var sum: Float = 0
        for j in 0..<n {
            let r = next()
            // Sum of four 16-bit uniforms, centred: close enough to a normal for directions.
            let s = Float(r & 0xFFFF) + Float((r >> 16) & 0xFFFF) + Float((r >> 32) & 0xFFFF) + Float(r >> 48)
            let v = s - 2 * 65535
            out[j] = v
            sum += v * v
        }
        let scale = 1 / max(sum, .leastNormalMagnitude).squareRoot()
        for j in 0..<n { out[j] *= scale }
    }

    mutating func unitVector(_ n: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: n) { b, count in unitVector(b.baseAddress!, n); count = n }
    }
}
