/// Unary ops whose scalar form calls libm once per element (most of their time): they also give a
/// loop over a whole run, written so the compiler vectorises it.
protocol VectorizedUnaryOp: UnaryFloatOp {
    static func apply(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int)
}

enum VectorMath {
    /// eˣ without libm: x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two so n·ln 2 is exact), eʳ
    /// by Cephes' degree-6 polynomial for expf, then 2ⁿ through the exponent bits. Within 2 ulp of expf
    /// over the clamped range; below e⁻⁸⁷ it gives about 1e-38 instead of 0; NaN gives NaN (a corrupt
    /// model's weights must not trap in the integer conversion). Plain float arithmetic, selects and
    /// bit casts only, so a loop calling it vectorises.
    @inline(__always)
    static func exp(_ input: Float) -> Float {
        let x = input.isNaN ? 0 : min(max(input, -87.3), 88.3)
        let n = (x * 1.442_695_04).rounded(.toNearestOrEven)
        let r = x - n * 0.693_359_375 - n * -2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * (r * r) + r + 1
        let result = p * Float(bitPattern: UInt32(bitPattern: (Int32(n) &+ 127) &<< 23))
        return input.isNaN ? input : result
    }
}
