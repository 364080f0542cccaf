@testable import CNNRuntime
import XCTest

/// Every op's gradient against central finite differences: the loss is L = Σ r·y for a fixed random
/// r, the analytic gradient comes from GradientSession.backward, the numeric one from
/// (L(v + h) − L(v − h)) / 2h per checked element (evaluated in Double over the float outputs).
final class GradientTests: XCTestCase {
    struct Rng {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        /// Uniform in ±[lo, hi] (away from 0 when lo > 0: no kinks of Relu/Abs/Clip at 0 nearby).
        mutating func values(_ n: Int, lo: Float = 0, hi: Float = 1) -> [Float] {
            (0..<n).map { _ in let m = lo + (hi - lo) * next(); return next() < 0.5 ? -m : m }
        }
    }

    var rng = Rng(state: 20261126)

    func random(_ shape: [Int], lo: Float = 0, hi: Float = 1) -> Tensor {
        Tensor(shape: shape, floats: rng.values(shape.reduce(1, *), lo: lo, hi: hi))
    }

    /// Distinct values 0.05 apart, shuffled: max pooling's choice cannot flip under ±h.
    func spaced(_ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        var v = (0..<n).map { Float($0) * 0.05 - Float(n) * 0.025 }
        for i in stride(from: n - 1, to: 0, by: -1) { v.swapAt(i, Int(rng.next() * Float(i + 1)) % (i + 1)) }
        return Tensor(shape: shape, floats: v)
    }

    /// Checks ∂L/∂v for every value in `differentiate` (graph inputs) and `parameters` (initializers).
    func check(_ nodes: [Node], inputs: [String: Tensor], constants: [String: Tensor] = [:], parameters: [String] = [],
               output: String? = nil, h: Float = 1e-2, tolerance: Double = 2e-3, opset: Int = 17,
               file: StaticString = #filePath, line: UInt = #line) throws {
        let out = output ?? nodes.last!.outputs[0]
        let graph = ModelGraph(name: "gradient-test", nodes: nodes,
                               inputs: inputs.keys.sorted().map { ValueInfo(name: $0, elementType: .float, shape: nil) },
                               outputs: [ValueInfo(name: out, elementType: nil, shape: nil)],
                               initializers: constants, opsetVersion: opset)
        let session = try GradientSession(graph, outputs: [out], parameters: parameters, threads: 2)
        let y = try session.forward(inputs).outputs[out]!
        let r = random(y.shape)
        let wrt = inputs.keys.sorted() + parameters
        let analytic = try session.backward(try session.forward(inputs), seeds: [out: r], wrt: wrt)
        func loss(_ feeds: [String: Tensor]) throws -> Double {
            let v = try session.forward(feeds).outputs[out]!.floats
            return zip(v, r.floats).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        for name in wrt {
            let value = inputs[name] ?? session.parameters[name]!
            let grad = analytic[name]!
            XCTAssertEqual(grad.shape, value.shape, "\(name): gradient shape", file: file, line: line)
            let n = value.count
            let picks = n <= 24 ? Array(0..<n) : (0..<24).map { _ in Int(rng.next() * Float(n)) % n }
            for i in picks {
                var values = value.floats
                let original = values[i]
                func perturbed(_ delta: Float) throws -> Double {
                    values[i] = original + delta
                    let t = Tensor(shape: value.shape, floats: values)
                    if inputs[name] != nil {
                        var feeds = inputs
                        feeds[name] = t
                        return try loss(feeds)
                    }
                    try session.setParameter(name, t)
                    defer { try? session.setParameter(name, value) }
                    return try loss(inputs)
                }
                let numeric = (try perturbed(h) - perturbed(-h)) / Double(2 * h)
                let a = Double(grad.floats[i])
                XCTAssertLessThanOrEqual(abs(a - numeric), tolerance + 1e-2 * max(abs(a), abs(numeric)),
                                         "\(nodes.map(\.opType)) ∂L/∂\(name)[\(i)]: analytic \(a), numeric \(numeric)",
                                         file: file, line: line)
            }
        }
    }

    func node(_ op: String, _ inputs: [String], _ attributes: [String: Attribute] = [:], output: String = "y") -> Node {
        Node(name: op.lowercased(), opType: op, inputs: inputs, outputs: [output], attributes: attributes)
    }

    func ints(_ v: [Int]) -> Tensor { Tensor(shape: [v.count], int64s: v.map(Int64.init)) }

    // MARK: convolution

    func testConv2DWithBiasPaddingAndStride() throws {
        try check([node("Conv", ["x", "w", "b"], ["pads": .ints([1, 2, 1, 0]), "strides": .ints([2, 1])])],
                  inputs: ["x": random([2, 3, 7, 6])], constants: ["w": random([4, 3, 3, 3]), "b": random([4])],
                  parameters: ["w", "b"])
    }

    func testConvDilatedAndGrouped() throws {
        try check([node("Conv", ["x", "w"], ["dilations": .ints([2, 2]), "group": .int(2), "pads": .ints([2, 2, 2, 2])])],
                  inputs: ["x": random([1, 4, 6, 6])], constants: ["w": random([6, 2, 3, 3])], parameters: ["w"])
    }

    func testDepthwiseConvStrided() throws {
        try check([node("Conv", ["x", "w", "b"], ["group": .int(3), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])])],
                  inputs: ["x": random([1, 3, 7, 8])], constants: ["w": random([3, 1, 3, 3]), "b": random([3])],
                  parameters: ["w", "b"])
    }

    func testDepthwiseConvInputOnly() throws {
        // No weight gradient asked for (what optimising an image needs); rows wider than 16 lanes.
        try check([node("Conv", ["x", "w"], ["group": .int(4), "dilations": .ints([1, 2]), "pads": .ints([1, 2, 1, 0])])],
                  inputs: ["x": random([1, 4, 6, 37])], constants: ["w": random([4, 1, 3, 3])])
    }

    func testPointwiseConvInputOnlyOnTheDirectKernels() throws {
        // ∂X as the pointwise convolution of ∂Y with Wᵀ (24 → 40 channels over 70-pixel rows: a direct-kernel shape).
        try check([node("Conv", ["x", "w"])], inputs: ["x": random([1, 40, 2, 70])], constants: ["w": random([24, 40, 1, 1])])
    }

    func testPointwiseConv() throws {
        try check([node("Conv", ["x", "w"])], inputs: ["x": random([2, 5, 4, 3])], constants: ["w": random([3, 5, 1, 1])],
                  parameters: ["w"])
    }

    func testConv1DAnd3D() throws {
        try check([node("Conv", ["x", "w"], ["pads": .ints([1, 2]), "strides": .ints([2])])],
                  inputs: ["x": random([1, 2, 9])], constants: ["w": random([3, 2, 4])], parameters: ["w"])
        try check([node("Conv", ["x", "w"], ["pads": .ints([1, 0, 1, 1, 0, 1])])],
                  inputs: ["x": random([1, 2, 4, 3, 5])], constants: ["w": random([2, 2, 3, 2, 3])], parameters: ["w"])
    }

    /// Conv → Clip is fused into one step by the session (the gradient masks by the output); making the
    /// conv's output a graph output prevents the fusion. Both must give the same gradients.
    func testConvWithFusedClipMatchesUnfused() throws {
        let nodes = [node("Conv", ["x", "w"], ["pads": .ints([1, 1, 1, 1])], output: "c"), node("Clip", ["c", "lo", "hi"])]
        let graph = ModelGraph(name: "cc", nodes: nodes, inputs: [ValueInfo(name: "x", elementType: .float, shape: nil)],
                               outputs: [ValueInfo(name: "y", elementType: nil, shape: nil)],
                               initializers: ["w": random([3, 2, 3, 3]), "lo": .scalar(0), "hi": .scalar(1.5)], opsetVersion: 17)
        let fused = try GradientSession(graph, outputs: ["y"], parameters: ["w"], threads: 1)
        let unfused = try GradientSession(graph, outputs: ["y", "c"], parameters: ["w"], threads: 1)
        XCTAssertEqual(fused.session.report.fusedActivations, 1)
        XCTAssertEqual(unfused.session.report.fusedActivations, 0)
        let x = random([1, 2, 5, 5]), seed = random([1, 3, 5, 5])
        let a = try fused.backward(try fused.forward(["x": x]), seeds: ["y": seed], wrt: ["x", "w"])
        let b = try unfused.backward(try unfused.forward(["x": x]), seeds: ["y": seed], wrt: ["x", "w"])
        let clipped = try fused.forward(["x": x]).outputs["y"]!.floats.filter { $0 == 0 || $0 == 1.5 }.count
        XCTAssertGreaterThan(clipped, 10, "the test needs clipped outputs")
        for name in ["x", "w"] {
            for (p, q) in zip(a[name]!.floats, b[name]!.floats) { XCTAssertEqual(p, q, accuracy: 1e-5, name) }
        }
    }

    // MARK: activations

    func testActivations() throws {
        let x = random([2, 3, 4], lo: 0.1, hi: 2)
        for op in ["Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs"] { try check([node(op, ["x"])], inputs: ["x": x]) }
        try check([node("LeakyRelu", ["x"], ["alpha": .float(0.2)])], inputs: ["x": x])
        // Kinks at x = ±1: these values stay clear of them by more than h.
        try check([node("HardSigmoid", ["x"], ["alpha": .float(0.5), "beta": .float(0.5)])],
                  inputs: ["x": Tensor(shape: [8], floats: [-2.5, -1.5, -0.6, -0.2, 0.3, 0.8, 1.4, 3])])
        try check([node("Clip", ["x", "lo", "hi"])], inputs: ["x": x], constants: ["lo": .scalar(-0.75), "hi": .scalar(0.8)])
        let positive = Tensor(shape: [6], floats: [0.3, 0.7, 1.2, 2, 0.5, 3])
        for op in ["Sqrt", "Reciprocal"] { try check([node(op, ["x"])], inputs: ["x": positive], h: 1e-3) }
        try check([node("Softmax", ["x"], ["axis": .int(1)])], inputs: ["x": random([2, 5, 3])])
        try check([node("PRelu", ["x", "slope"])], inputs: ["x": random([1, 3, 2, 2], lo: 0.1)],
                  constants: ["slope": random([3, 1, 1])], parameters: ["slope"])
    }

    func testQuantizeDequantizePassesTheGradientStraightThrough() throws {
        let nodes = [node("QuantizeLinear", ["x", "s", "z"], output: "q"), node("DequantizeLinear", ["q", "s", "z"], output: "d"),
                     node("Mul", ["d", "k"])]
        let graph = ModelGraph(name: "qdq", nodes: nodes, inputs: [ValueInfo(name: "x", elementType: .float, shape: nil)],
                               outputs: [ValueInfo(name: "y", elementType: nil, shape: nil)],
                               initializers: ["s": .scalar(0.1), "z": Tensor(shape: [], storage: .uint8([128])), "k": .scalar(3)],
                               opsetVersion: 17)
        let session = try GradientSession(graph, outputs: ["y"], threads: 1)
        let x = random([10])
        let g = try session.backward(try session.forward(["x": x]), seeds: ["y": Tensor(shape: [10], floats: Array(repeating: 1, count: 10))],
                                     wrt: ["x"])["x"]!
        XCTAssertEqual(g.floats, Array(repeating: 3, count: 10))
        // Quantised, moved while int8 (as the Magenta predictor does with its input), dequantised;
        // and the same with the quantisation removed (the values then stay float: a smooth function).
        let moved = ModelGraph(name: "qtdq", nodes: [node("QuantizeLinear", ["x", "s", "z"], output: "q"),
                                                     node("Transpose", ["q"], ["perm": .ints([1, 0])], output: "t"),
                                                     node("DequantizeLinear", ["t", "s", "z"], output: "d"), node("Mul", ["d", "k"])],
                               inputs: graph.inputs, outputs: graph.outputs, initializers: graph.initializers, opsetVersion: 17)
        let x2 = random([2, 5]), seed = random([5, 2])
        for mode in [GradientSession.ActivationQuantization.straightThrough, .removed] {
            let s = try GradientSession(moved, outputs: ["y"], activationQuantization: mode, threads: 1)
            let tape = try s.forward(["x": x2])
            let y = tape.outputs["y"]!.floats, exact = (0..<10).map { 3 * x2.floats[($0 % 2) * 5 + $0 / 2] }
            if mode == .removed { XCTAssertEqual(y, exact) } else { XCTAssertNotEqual(y, exact, "rounded to the 0.1 grid") }
            let g2 = try s.backward(tape, seeds: ["y": seed], wrt: ["x"])["x"]!.floats
            for i in 0..<10 { XCTAssertEqual(g2[i], 3 * seed.floats[(i % 5) * 2 + i / 5], accuracy: 1e-5, "\(mode)") }
        }
    }

    // MARK: arithmetic with broadcasting

    func testBinaryOpsBroadcast() throws {
        let a = random([2, 3, 4], lo: 0.5, hi: 1.5), b = random([3, 1], lo: 0.5, hi: 1.5)
        for op in ["Add", "Sub", "Mul", "Div"] { try check([node(op, ["a", "b"])], inputs: ["a": a, "b": b]) }
        let base = Tensor(shape: [2, 3], floats: [0.5, 0.9, 1.3, 1.7, 2.1, 0.7])
        try check([node("Pow", ["a", "b"])], inputs: ["a": base, "b": random([3], lo: 0.5, hi: 2)], h: 1e-3)
    }

    /// Opset < 7 `broadcast`/`axis`: b [3] lines up with a's axis 1, in the gradient as in the forward pass.
    func testBinaryOpsLegacyAxis() throws {
        let a = random([2, 3, 4], lo: 0.5, hi: 1.5), b = random([3], lo: 0.5, hi: 1.5)
        let positive = Tensor(shape: a.shape, floats: a.floats.map(abs))
        for op in ["Add", "Sub", "Mul", "Div", "Pow"] {
            try check([node(op, ["a", "b"], ["broadcast": .int(1), "axis": .int(1)])],
                      inputs: ["a": op == "Pow" ? positive : a, "b": b], h: op == "Pow" ? 1e-3 : 1e-2, opset: 6)
        }
    }

    // MARK: pooling and normalisation

    func testPooling() throws {
        let x = spaced([1, 2, 6, 7])
        try check([node("MaxPool", ["x"], ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])])],
                  inputs: ["x": x], h: 1e-3)
        try check([node("AveragePool", ["x"], ["kernel_shape": .ints([2, 3]), "strides": .ints([2, 1]), "pads": .ints([0, 1, 1, 1]),
                                               "count_include_pad": .int(1)])], inputs: ["x": x])
        try check([node("AveragePool", ["x"], ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])], inputs: ["x": x])
        try check([node("GlobalAveragePool", ["x"])], inputs: ["x": x])
        try check([node("GlobalMaxPool", ["x"])], inputs: ["x": x], h: 1e-3)
    }

    func testNormalisation() throws {
        try check([node("InstanceNormalization", ["x", "s", "b"], ["epsilon": .float(1e-3)])],
                  inputs: ["x": random([2, 3, 4, 5])], constants: ["s": random([3]), "b": random([3])], parameters: ["s", "b"])
        try check([node("BatchNormalization", ["x", "s", "b", "m", "v"])],
                  inputs: ["x": random([2, 3, 4])],
                  constants: ["s": random([3]), "b": random([3]), "m": random([3]), "v": Tensor(shape: [3], floats: [0.5, 1.3, 0.8])], parameters: ["s", "b"])
        try check([node("ReduceMean", ["x"], ["axes": .ints([1, 3]), "keepdims": .int(0)])], inputs: ["x": random([2, 3, 4, 5])])
        try check([node("ReduceSum", ["x", "axes"])], inputs: ["x": random([2, 3, 4])], constants: ["axes": ints([-1])])
    }

    /// Instance norm as PyTorch exports it, which the session fuses into one kernel (with γ, β, Relu).
    func testFusedInstanceNorm() throws {
        let nodes = [
            node("ReduceMean", ["x"], ["axes": .ints([2, 3])], output: "mu"), node("Sub", ["x", "mu"], output: "d"),
            node("Pow", ["d", "two"], output: "d2"), node("ReduceMean", ["d2"], ["axes": .ints([2, 3])], output: "var"),
            node("Add", ["var", "eps"], output: "ve"), node("Sqrt", ["ve"], output: "sd"), node("Div", ["one", "sd"], output: "r"),
            node("Mul", ["d", "r"], output: "n"), node("Mul", ["n", "gamma"], output: "ng"), node("Add", ["ng", "beta"], output: "nb"),
            node("Relu", ["nb"]),
        ]
        let constants: [String: Tensor] = ["two": .scalar(2), "eps": .scalar(1e-5), "one": .scalar(1),
                                           "gamma": random([1, 3, 1, 1]), "beta": random([1, 3, 1, 1])]
        let graph = ModelGraph(name: "in", nodes: nodes, inputs: [ValueInfo(name: "x", elementType: .float, shape: nil)],
                               outputs: [ValueInfo(name: "y", elementType: nil, shape: nil)], initializers: constants, opsetVersion: 17)
        XCTAssertEqual(try Session(graph).report.fusedInstanceNorms, 1)
        try check(nodes, inputs: ["x": random([1, 3, 4, 4])], constants: constants, h: 1e-3, tolerance: 5e-3)
    }

    // MARK: shapes and data movement

    func testDataMovement() throws {
        let x = random([2, 3, 4])
        try check([node("Transpose", ["x"], ["perm": .ints([2, 0, 1])])], inputs: ["x": x])
        try check([node("Reshape", ["x", "s"])], inputs: ["x": x], constants: ["s": ints([4, -1])])
        try check([node("Slice", ["x", "st", "en", "ax", "sp"])], inputs: ["x": x],
                  constants: ["st": ints([1, 3]), "en": ints([3, 0]), "ax": ints([1, 2]), "sp": ints([1, -2])])
        try check([node("Concat", ["x", "z"], ["axis": .int(1)])], inputs: ["x": x, "z": random([2, 2, 4])])
        for mode in ["constant", "reflect", "edge"] {
            try check([node("Pad", ["x", "p"], ["mode": .string(mode)])], inputs: ["x": x], constants: ["p": ints([0, 1, 2, 1, 0, 1])])
        }
    }

    func testResize() throws {
        let x = random([1, 2, 3, 4])
        try check([node("Resize", ["x", "", "s"], ["mode": .string("linear")])], inputs: ["x": x],
                  constants: ["s": Tensor(shape: [4], floats: [1, 1, 2, 1.5])])
        try check([node("Resize", ["x", "", "s"], ["mode": .string("linear"), "coordinate_transformation_mode": .string("align_corners")])],
                  inputs: ["x": x], constants: ["s": Tensor(shape: [4], floats: [1, 1, 0.67, 2])])
        try check([node("Resize", ["x", "", "s"], ["mode": .string("nearest")])], inputs: ["x": x],
                  constants: ["s": Tensor(shape: [4], floats: [1, 1, 2, 2])])
    }

    // MARK: matrix products

    func testMatMulAndGemm() throws {
        try check([node("MatMul", ["a", "b"])], inputs: ["a": random([2, 3, 4]), "b": random([4, 5])])
        try check([node("MatMul", ["a", "b"])], inputs: ["a": random([4]), "b": random([3, 4, 2])])
        for (ta, tb) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let a = ta == 1 ? random([4, 3]) : random([3, 4]), b = tb == 1 ? random([5, 4]) : random([4, 5])
            try check([node("Gemm", ["a", "b", "c"], ["transA": .int(ta), "transB": .int(tb), "alpha": .float(0.7), "beta": .float(1.3)])],
                      inputs: ["a": a, "b": b], constants: ["c": random([5])], parameters: ["c"])
        }
    }

    // MARK: the session

    func testGradientsAccumulateOverSeveralUsesAndErrorsAreClear() throws {
        // y = x·x + x: x is used three times.
        let nodes = [node("Mul", ["x", "x"], output: "sq"), node("Add", ["sq", "x"])]
        try check(nodes, inputs: ["x": random([5])])
        let graph = ModelGraph(name: "g", nodes: nodes, inputs: [ValueInfo(name: "x", elementType: .float, shape: nil)],
                               outputs: [ValueInfo(name: "y", elementType: nil, shape: nil)], initializers: [:], opsetVersion: 17)
        let session = try GradientSession(graph, outputs: ["y", "sq"], threads: 1)
        let tape = try session.forward(["x": random([5])])
        XCTAssertThrowsError(try session.backward(tape, seeds: ["y": random([4])], wrt: ["x"])) { error in
            XCTAssertTrue("\(error)".contains("shape"), "\(error)")
        }
        XCTAssertThrowsError(try session.backward(tape, seeds: ["y": random([5])], wrt: ["sq"])) { error in
            XCTAssertTrue("\(error)".contains("not an input or parameter"), "\(error)")
        }
        XCTAssertThrowsError(try GradientSession(graph, outputs: ["y"], parameters: ["w"])) { error in
            XCTAssertTrue("\(error)".contains("not an initializer"), "\(error)")
        }
    }
}

final class OptimizerTests: XCTestCase {
    /// Rosenbrock's valley, f = (1 − a)² + 100 (b − a²)², minimum 0 at (1, 1).
    static func rosenbrock(_ x: [Float]) -> (value: Double, gradient: [Float]) {
        let a = Double(x[0]), b = Double(x[1])
        let value = (1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a)
        return (value, [Float(-2 * (1 - a) - 400 * a * (b - a * a)), Float(200 * (b - a * a))])
    }

    func testLBFGSFindsRosenbrocksMinimum() throws {
        var x: [Float] = [-1.2, 1]
        var optimizer = LBFGS(history: 10)
        var values: [Double] = []
        let final = try optimizer.minimize(&x, iterations: 200, Self.rosenbrock) { _, v in values.append(v); return true }
        XCTAssertLessThan(final, 1e-6)
        XCTAssertEqual(x[0], 1, accuracy: 2e-3)
        XCTAssertEqual(x[1], 1, accuracy: 4e-3)
        XCTAssertLessThan(values.count, 100, "L-BFGS should need far fewer than 100 iterations here")
        XCTAssertTrue(zip(values, values.dropFirst()).allSatisfy { $1 <= $0 }, "the value must never increase")
    }

    func testAdamMinimisesAQuadratic() {
        // f = Σ c_i (x_i − t_i)²
        let c: [Float] = [1, 10, 0.1, 5], target: [Float] = [3, -2, 0.5, 1]
        var x = [Float](repeating: 0, count: 4)
        var adam = Adam(learningRate: 0.05)
        for _ in 0..<3000 {
            let g = (0..<4).map { 2 * c[$0] * (x[$0] - target[$0]) }
            adam.step("x", &x, gradient: g)
        }
        for i in 0..<4 { XCTAssertEqual(x[i], target[i], accuracy: 1e-2) }
    }
}
