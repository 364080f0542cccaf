import XCTest
@testable import CNNRuntime

/// Transpose and Pad of 8-bit tensors (a QDQ model's quantised photo, output and padded maps) move
/// the same bytes as the index arithmetic and the float ops say.
final class EightBitDataMovementTests: XCTestCase {
    func testEightBitTransposeFollowsThePermutation() throws {
        let (n, h, w, c) = (2, 3, 5, 4)
        let values = (0..<n * h * w * c).map { Int8(truncatingIfNeeded: $0 * 7 - 100) }
        let node = Node(name: "t", opType: "Transpose", inputs: ["x"], outputs: ["y"], attributes: ["perm": .ints([0, 3, 1, 2])])
        let kernel = try TransposeKernel(AttributeReader(node))
        for signed in [true, false] {
            let x = Tensor(shape: [n, h, w, c], storage: signed ? .int8(values) : .uint8(values.map { UInt8(bitPattern: $0) }))
            let y = try kernel.run([x], ExecutionContext(threads: 1))[0]
            XCTAssertEqual(y.shape, [n, c, h, w])
            XCTAssertEqual(y.elementType, signed ? .int8 : .uint8)
            var expected: [Int64] = []
            for b in 0..<n { for ch in 0..<c { for i in 0..<h { for j in 0..<w {
                let v = values[((b * h + i) * w + j) * c + ch]
                expected.append(signed ? Int64(v) : Int64(UInt8(bitPattern: v)))
            } } } }
            XCTAssertEqual(y.int64s, expected)
        }
    }

    func testEightBitPadMatchesTheFloatPad() throws {
        let x = Tensor.deterministic([1, 3, 6, 7], seed: 2)
        let bytes = x.floats.map { Int8(clamping: Int(($0 * 100).rounded())) }
        for mode in ["reflect", "edge"] {
            for pads in [[0, 0, 1, 2, 0, 0, 3, 1], [0, 1, 0, 0, 0, 0, 2, 4]] where mode == "edge" || pads[1] == 0 {
                let node = Node(name: "pad", opType: "Pad", inputs: ["x", "pads"], outputs: ["y"], attributes: ["mode": .string(mode)])
                let kernel = try PadKernel(AttributeReader(node))
                let padsTensor = Tensor(shape: [8], int64s: pads.map(Int64.init))
                let ctx = ExecutionContext(threads: 2)
                let asFloat = try kernel.run([Tensor(shape: x.shape, floats: bytes.map(Float.init)), padsTensor], ctx)[0]
                let asBytes = try kernel.run([Tensor(shape: x.shape, storage: .int8(bytes)), padsTensor], ctx)[0]
                XCTAssertEqual(asBytes.elementType, .int8)
                XCTAssertEqual(asBytes.shape, asFloat.shape)
                XCTAssertEqual(asBytes.int64s.map(Float.init), asFloat.floats, "\(mode) \(pads)")
            }
        }
    }

    /// A photo in NHWC padded in H and W (the channels axis unpadded is folded into W's rows): every
    /// mode against index arithmetic, in float and in bytes.
    func testPadOfChannelsLastMatchesIndexArithmetic() throws {
        let (h, w, c) = (4, 5, 3)
        let x = Tensor.deterministic([1, h, w, c], seed: 6)
        func source(_ i: Int, _ n: Int, _ mode: String) -> Int? {
            if i >= 0 && i < n { return i }
            switch mode {
            case "edge": return min(max(i, 0), n - 1)
            case "reflect": return i < 0 ? -i : 2 * (n - 1) - i
            default: return nil
            }
        }
        for mode in ["reflect", "edge", "constant"] {
            let pads = [0, 1, 2, 0, 0, 2, 1, 0]
            let node = Node(name: "pad", opType: "Pad", inputs: ["x", "pads", "value"], outputs: ["y"], attributes: ["mode": .string(mode)])
            let kernel = try PadKernel(AttributeReader(node))
            let y = try kernel.run([x, Tensor(shape: [8], int64s: pads.map(Int64.init)), .scalar(0.5)], ExecutionContext(threads: 2))[0]
            let (oh, ow) = (h + 3, w + 3)
            XCTAssertEqual(y.shape, [1, oh, ow, c])
            var expected: [Float] = []
            for i in 0..<oh { for j in 0..<ow { for k in 0..<c {
                if let si = source(i - 1, h, mode), let sj = source(j - 2, w, mode) {
                    expected.append(x.floats[(si * w + sj) * c + k])
                } else {
                    expected.append(0.5)
                }
            } } }
            XCTAssertEqual(y.floats, expected, mode)
            guard mode != "constant" else { continue }
            let bytes = x.floats.map { Int8(clamping: Int(($0 * 100).rounded())) }
            let yb = try kernel.run([Tensor(shape: x.shape, storage: .int8(bytes)), Tensor(shape: [8], int64s: pads.map(Int64.init))],
                                    ExecutionContext(threads: 2))[0]
            XCTAssertEqual(yb.int64s.map(Float.init), expected.map { Float(Int8(clamping: Int(($0 * 100).rounded()))) }, mode)
        }
    }
}
