import CConvKernels
@testable import CNNRuntime
import XCTest

/// The C elementwise kernels (chain links, quantisation) on every instruction set this CPU has,
/// against the Swift expressions they replaced, bit for bit: every length up to a few vectors (the
/// tails), NaN, infinities, ±0, halfway values, nothing written past the end, and in place.
final class ElementwiseKernelsTests: XCTestCase {
    var instructionSets: [Int32] { (Int32(CP_ISA_SCALAR)...cp_conv_best_isa()).map { $0 } }

    /// Ordinary values, then the awkward ones at the front (so short runs see them too).
    func values(_ n: Int, _ seed: Int) -> [Float] {
        let special: [Float] = [.nan, -0.0, 0, .infinity, -.infinity, 2.5, -2.5, 3.5, 1e30, -1e30, .leastNonzeroMagnitude, 127.5, -128.5, 255.5]
        return (0..<n).map { i in
            i < special.count && seed % 2 == 0 ? special[(i + seed) % special.count] : Float(((i + seed) * 7919) % 613) / 6.13 - 50
        }
    }

    func assertSameBits(_ got: [Float], _ expected: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), what, file: file, line: line)
    }

    /// `run(isa, out)` writes n values; the result must be `expected` with the two guard values untouched.
    func check(_ n: Int, _ expected: [Float], _ what: String, _ run: (Int32, UnsafeMutablePointer<Float>) -> Void) {
        for isa in instructionSets {
            var out = [Float](repeating: 7, count: n + 2)
            out.withUnsafeMutableBufferPointer { run(isa, $0.baseAddress!) }
            assertSameBits(Array(out.prefix(n)), expected, "\(what), isa \(isa), n \(n)")
            XCTAssertEqual(Array(out.suffix(2)), [7, 7], "\(what), isa \(isa), n \(n): wrote past the end")
        }
    }

    func testBinaryOpsAllStridePatterns() {
        let ops: [(Int32, String, (Float, Float) -> Float)] = [
            (Int32(CP_ADD), "Add", { $0 + $1 }), (Int32(CP_SUB), "Sub", { $0 - $1 }),
            (Int32(CP_MUL), "Mul", { $0 * $1 }), (Int32(CP_DIV), "Div", { $0 / $1 }),
        ]
        for n in 0...70 {
            let a = values(n, 0), b = values(n, 4)    // both with NaN, ±0, ±∞ (b's at other places: x/0, ∞/∞, …)
            for (op, name, f) in ops {
                check(n, zip(a, b).map(f), "\(name) tensor-tensor") { cp_binary(op, a, 1, b, 1, $1, n, $0) }
                check(n, a.map { f($0, 0.37) }, "\(name) tensor-scalar") { isa, o in [Float(0.37)].withUnsafeBufferPointer { cp_binary(op, a, 1, $0.baseAddress!, 0, o, n, isa) } }
                check(n, b.map { f(-1.5, $0) }, "\(name) scalar-tensor") { isa, o in [Float(-1.5)].withUnsafeBufferPointer { cp_binary(op, $0.baseAddress!, 0, b, 1, o, n, isa) } }
                check(n, [Float](repeating: f(2, 3), count: n), "\(name) scalars") { isa, o in cp_binary(op, [2], 0, [3], 0, o, n, isa) }
            }
        }
    }

    func testReluKeepsSwiftsMaxForNaNAndNegativeZero() {
        for n in 0...70 {
            let v = values(n, 0)
            check(n, v.map { max($0, 0) }, "Relu") { cp_relu(v, $1, n, $0) }
        }
        var out: [Float] = [1, 1]
        cp_relu([-0.0, .nan], &out, 2, cp_conv_best_isa())
        XCTAssertEqual(out[0].bitPattern, Float(0).bitPattern, "max(-0, 0) is +0 in Swift")
        XCTAssertTrue(out[1].isNaN)
    }

    /// The Swift FakeQuant loop the C kernel replaced.
    func fakeQuant(_ x: Float, _ s: Float, _ z: Float, _ l: Float, _ h: Float) -> Float {
        let magic: Float = 12_582_912, v = min(max(x / s, l - z - 1), h - z + 1)
        return (min(max(((v + magic) - magic) + z, l), h) - z) * s
    }

    func testFakeQuantRoundsHalfToEvenAndSaturates() {
        for (s, z, l, h): (Float, Float, Float, Float) in [(1, 0, -128, 127), (0.0371, 131, 0, 255), (0.5, -3, -128, 127)] {
            for n in 0...70 {
                let v = values(n, 0)
                check(n, v.map { fakeQuant($0, s, z, l, h) }, "FakeQuant s \(s) z \(z)") { cp_fake_quant(v, $1, n, s, z, l, h, $0) }
            }
        }
        // By hand: halves go to the even neighbour, the ends saturate.
        var out = [Float](repeating: 0, count: 6)
        cp_fake_quant([2.5, 3.5, -2.5, 200, -200, 127.5], &out, 6, 1, 0, -128, 127, cp_conv_best_isa())
        XCTAssertEqual(out, [2, 4, -2, 127, -128, 127])
    }

    func testFakeQuantInPlace() {
        for isa in instructionSets {
            var v = values(67, 1)
            let expected = v.map { fakeQuant($0, 0.25, 10, 0, 255) }
            v.withUnsafeMutableBufferPointer { cp_fake_quant($0.baseAddress!, $0.baseAddress!, 67, 0.25, 10, 0, 255, isa) }
            assertSameBits(v, expected, "in place, isa \(isa)")
        }
    }

    func testQuantizeAndDequantize() {
        let magic: Float = 12_582_912
        func quantized(_ x: Float, _ scale: Float, _ zp: Int32, _ lo: Float, _ hi: Float) -> UInt32 {
            let z = Float(zp), v = min(max(x / scale, lo - z - 1), hi - z + 1)
            return min(max((v + magic) + z, lo + magic), hi + magic).bitPattern
        }
        for (scale, zp): (Float, Int32) in [(1, 0), (0.0213, -7), (0.5, 100)] {
            for n in 0...70 {
                let v = values(n, 0)
                for isa in instructionSets {
                    var s8 = [Int8](repeating: 99, count: n + 2), u8 = [UInt8](repeating: 99, count: n + 2)
                    cp_quantize_s8(v, &s8, n, scale, zp, isa)
                    cp_quantize_u8(v, &u8, n, scale, min(zp + 128, 255), isa)
                    XCTAssertEqual(Array(s8.prefix(n)), v.map { Int8(truncatingIfNeeded: quantized($0, scale, zp, -128, 127)) }, "s8 isa \(isa) n \(n)")
                    XCTAssertEqual(Array(u8.prefix(n)), v.map { UInt8(truncatingIfNeeded: quantized($0, scale, min(zp + 128, 255), 0, 255)) }, "u8 isa \(isa) n \(n)")
                    XCTAssertEqual(Array(s8.suffix(2)) + Array(u8.suffix(2)).map { Int8(bitPattern: $0) }, [99, 99, 99, 99])

                    let q8 = (0..<n).map { Int8(truncatingIfNeeded: $0 * 37 - 128) }, qu = q8.map { UInt8(bitPattern: $0) }
                    check(n, q8.map { Float(Int32($0) - zp) * scale }, "dequantize s8") { cp_dequantize_s8(q8, $1, n, scale, zp, $0) }
                    check(n, qu.map { Float(Int32($0) - zp) * scale }, "dequantize u8") { cp_dequantize_u8(qu, $1, n, scale, zp, $0) }
                }
            }
        }
        var byHand = [Int8](repeating: 0, count: 5)
        cp_quantize_s8([2.5, 3.5, -2.5, 1000, .nan], &byHand, 5, 1, 0, cp_conv_best_isa())
        XCTAssertEqual(Array(byHand.prefix(4)), [2, 4, -2, 127])
    }

    func testSigmoidIsVectorMathsExpBitForBit() {
        for n in 0...70 {
            let v = values(n, 0).map { $0 / 3 }
            check(n, v.map { 1 / (1 + VectorMath.exp(-$0)) }, "Sigmoid") { cp_sigmoid(v, $1, n, $0) }
        }
        // Inputs from -100 to 100 in steps of 2⁻⁸ (past both clamps, across every step of n).
        let grid = (-25_600...25_600).map { Float($0) / 256 }
        check(grid.count, grid.map { 1 / (1 + VectorMath.exp(-$0)) }, "Sigmoid grid") { cp_sigmoid(grid, $1, grid.count, $0) }
    }

    func testNormRowWithResidualReluOrNeither() {
        for n in 0...70 {
            let s = values(n, 0), a = values(n, 3)
            let (mean, rstd, g, b): (Float, Float, Float, Float) = (0.731, 1.37, -0.62, 0.113)
            func norm(_ x: Float) -> Float { ((x - mean) * rstd) * g + b }
            check(n, zip(s, a).map { norm($0) + $1 }, "norm + residual") { cp_norm_row(s, $1, n, mean, rstd, g, b, a, 0, $0) }
            check(n, s.map { max(norm($0), 0) }, "norm, Relu") { cp_norm_row(s, $1, n, mean, rstd, g, b, nil, 1, $0) }
            check(n, s.map(norm), "norm") { cp_norm_row(s, $1, n, mean, rstd, g, b, nil, 0, $0) }
        }
    }

    /// The Swift loops these replaced (accurateSum and planeMoments' variance), lane for lane.
    func swiftSum(_ p: [Float], _ f: (Float) -> Double) -> Double {
        var lanes = SIMD8<Double>(repeating: 0), i = 0
        while i + 8 <= p.count {
            for k in 0..<8 { lanes[k] += f(p[i + k]) }
            i += 8
        }
        var total = lanes.sum()
        while i < p.count { total += f(p[i]); i += 1 }
        return total
    }

    func testSumsInAccurateSumsOrder() {
        for n in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 100_003] {
            // Magnitudes from 1e-18 to 1e18: Double sums of them are inexact, so the order shows.
            let v: [Float] = (0..<n).map { i in
                let magnitude = Float(pow(10, Double(i % 37 - 18)))
                return Float(sin(Double(i) * 0.37)) * magnitude
            }
            let mean: Float = 3.7
            for isa in instructionSets {
                XCTAssertEqual(cp_sum(v, n, isa).bitPattern, swiftSum(v) { Double($0) }.bitPattern, "sum isa \(isa) n \(n)")
                XCTAssertEqual(cp_sum_of_squares(v, n, isa).bitPattern, swiftSum(v) { Double($0) * Double($0) }.bitPattern, "sum of squares isa \(isa) n \(n)")
                XCTAssertEqual(cp_squared_deviations(v, n, mean, isa).bitPattern,
                               swiftSum(v) { let d = $0 - mean; return Double(d * d) }.bitPattern, "squares isa \(isa) n \(n)")
            }
        }
    }

    /// Lanes carried across blocks (a chain's `means`) give accurateSum's bits over the whole run.
    func testLanesAcrossBlocksSumAsOneRun() {
        let n = 3 * 4096 + 13
        let v: [Float] = (0..<n).map { Float(sin(Double($0) * 0.37)) * Float(pow(10, Double($0 % 37 - 18))) }
        for isa in instructionSets {
            var lanes = [Double](repeating: 0, count: 8), i = 0
            v.withUnsafeBufferPointer { p in
                for start in stride(from: 0, to: n, by: 4096) {
                    let count = min(4096, n - start)
                    i = start + cp_add_to_lanes(p.baseAddress! + start, count, &lanes, isa)
                }
            }
            var total = lanes.reduce(-0.0, +)
            while i < n { total += Double(v[i]); i += 1 }
            XCTAssertEqual(total.bitPattern, cp_sum(v, n, isa).bitPattern, "isa \(isa)")
            XCTAssertEqual(total.bitPattern, swiftSum(v) { Double($0) }.bitPattern, "isa \(isa)")
        }
    }
}
