import Foundation
import XCTest
@testable import CNNRuntime

/// Runs of elementwise ops fused into one blocked pass compute exactly what the ops compute one by
/// one: per-channel and scalar operands, a per-channel value meeting the feature map, op(v, v), a
/// broadcast the fused loop does not cover, integer tensors, and the Magenta transformer.
final class ElementwiseChainTests: XCTestCase {
    override func tearDown() { Session.elementwiseChains = true }

    /// Both sessions' outputs (fused, then separate) for the same feeds.
    private func runBoth(_ graph: ModelGraph, _ feeds: [String: Tensor], threads: Int = 2) throws -> (fused: Session, [Tensor], [Tensor]) {
        Session.elementwiseChains = true
        let fused = try Session(graph, threads: threads)
        Session.elementwiseChains = false
        let separate = try Session(graph, threads: threads)
        Session.elementwiseChains = true
        let names = graph.outputs.map(\.name)
        let a = try fused.run(feeds), b = try separate.run(feeds)
        return (fused, names.map { a[$0]! }, names.map { b[$0]! })
    }

    /// The decomposed instance norm of the Magenta transformer, with fake quantisations between its ops.
    func testDecomposedNormIsBitIdentical() throws {
        let channels = 4, (h, w) = (65, 70)         // planes of 4550 values: two blocks each, the second partial
        func q(_ name: String, _ input: String, scale: String) -> [Node] {
            [Node(name: name + "_q", opType: "QuantizeLinear", inputs: [input, scale, "zp"], outputs: [name + "_i8"]),
             Node(name: name + "_dq", opType: "DequantizeLinear", inputs: [name + "_i8", scale, "zp"], outputs: [name])]
        }
        var nodes = [Node(name: "mean", opType: "GlobalAveragePool", inputs: ["x"], outputs: ["mean"]),
                     Node(name: "diff", opType: "Sub", inputs: ["x", "mean"], outputs: ["diff"]),
                     Node(name: "square", opType: "Mul", inputs: ["diff", "diff"], outputs: ["sq_f"])]
        nodes += q("sq", "sq_f", scale: "s_small")
        nodes += [Node(name: "var", opType: "GlobalAveragePool", inputs: ["sq"], outputs: ["var"]),
                  Node(name: "eps", opType: "Add", inputs: ["var", "epsilon"], outputs: ["v_eps"]),
                  Node(name: "sqrt", opType: "Sqrt", inputs: ["v_eps"], outputs: ["std"]),
                  Node(name: "inv", opType: "Reciprocal", inputs: ["std"], outputs: ["inv"]),
                  Node(name: "scale", opType: "Mul", inputs: ["inv", "gamma"], outputs: ["scale"]),
                  // mean · scale, then β − that, then added to the scaled map: the per-channel value meets the map.
                  Node(name: "ms", opType: "Mul", inputs: ["mean", "scale"], outputs: ["ms"]),
                  Node(name: "shift", opType: "Sub", inputs: ["beta", "ms"], outputs: ["shift"]),
                  Node(name: "xs", opType: "Mul", inputs: ["x", "scale"], outputs: ["xs"]),
                  Node(name: "add", opType: "Add", inputs: ["xs", "shift"], outputs: ["y_f"])]
        nodes += q("y", "y_f", scale: "s_big")
        nodes += [Node(name: "relu", opType: "Relu", inputs: ["y"], outputs: ["r"]),
                  // One value per row: a broadcast the fused loop leaves to the Mul kernel.
                  Node(name: "rows", opType: "Mul", inputs: ["r", "row_weights"], outputs: ["rw"]),
                  Node(name: "half", opType: "Div", inputs: ["rw", "two"], outputs: ["half"]),
                  Node(name: "sigmoid", opType: "Sigmoid", inputs: ["half"], outputs: ["out"])]
        let graph = ModelGraph(
            name: "norm", nodes: nodes,
            inputs: [ValueInfo(name: "x", elementType: .float, shape: [1, channels, h, w])],
            outputs: [ValueInfo(name: "out", elementType: nil, shape: nil)],
            initializers: ["s_small": .scalar(0.013), "s_big": .scalar(0.041), "zp": Tensor(shape: [], storage: .int8([3])),
                           "epsilon": .scalar(1e-3), "two": .scalar(2),
                           "gamma": Tensor(shape: [1, channels, 1, 1], floats: [0.5, 1.5, -0.7, 2]),
                           "beta": Tensor(shape: [1, channels, 1, 1], floats: [0.1, -0.2, 0.3, 0]),
                           "row_weights": Tensor(shape: [1, 1, h, 1], floats: (0..<h).map { Float($0) / Float(h) })],
            opsetVersion: 13)
        let x = Tensor(shape: [1, channels, h, w], floats: Tensor.deterministic([1, channels, h, w], seed: 5).floats.map { $0 * 3 })
        let (fused, a, b) = try runBoth(graph, ["x": x])
        // sub → square → Q/DQ → the variance's GlobalAveragePool (planes of 4550 values: 568 groups of 8 and 6 more);
        // mul → sub → add (the swap) → Q/DQ → relu → mul → div → sigmoid; add → sqrt → reciprocal → mul.
        XCTAssertEqual(fused.report.fusedElementwiseOps, 4 + 8 + 4)
        XCTAssertEqual(a[0].shape, [1, channels, h, w])
        XCTAssertEqual(a[0].floats, b[0].floats)
        XCTAssertEqual(try Session(graph, threads: 1).run(["x": x])["out"]!.floats, b[0].floats, "one thread")
    }

    /// dlib's add_prev (ZeroPaddedAdd) then Relu: one pass where the shapes agree; where they differ
    /// (a downsampling block adds 32 channels to 64) the op's own kernel zero-pads, never broadcasts.
    func testZeroPaddedAddJoinsAChainOnlyWithEqualShapes() throws {
        let graph = ModelGraph(
            name: "residual", nodes: [
                Node(name: "add", opType: "ZeroPaddedAdd", domain: OpRegistry.customDomain, inputs: ["x", "skip"], outputs: ["s"]),
                Node(name: "relu", opType: "Relu", inputs: ["s"], outputs: ["y"]),
            ],
            inputs: [ValueInfo(name: "x", elementType: .float, shape: nil), ValueInfo(name: "skip", elementType: .float, shape: nil)],
            outputs: [ValueInfo(name: "y", elementType: nil, shape: nil)], initializers: [:], opsetVersion: 13)
        let x = Tensor.deterministic([2, 4, 9, 7], seed: 11)
        for skip in [Tensor.deterministic([2, 4, 9, 7], seed: 12), Tensor.deterministic([2, 2, 9, 7], seed: 13),
                     Tensor.deterministic([2, 4, 1, 1], seed: 14)] {
            let (fused, a, b) = try runBoth(graph, ["x": x, "skip": skip])
            XCTAssertEqual(fused.report.fusedElementwiseOps, 2)
            XCTAssertEqual(a[0].shape, [2, 4, 9, 7])
            XCTAssertEqual(a[0].floats, b[0].floats, "skip \(skip.shape)")
        }
        // Zero-padded, not broadcast: where the [2, 4, 1, 1] operand does not reach, the sum is x alone.
        let (_, a, _) = try runBoth(graph, ["x": x, "skip": Tensor.deterministic([2, 4, 1, 1], seed: 14)])
        XCTAssertEqual(a[0].floats[1], max(0, x.floats[1]))
    }

    /// Integer tensors (shape arithmetic) run the ops' own kernels.
    func testIntegerChainRunsTheOps() throws {
        let graph = ModelGraph(
            name: "shape", nodes: [
                Node(name: "shape", opType: "Shape", inputs: ["x"], outputs: ["s"]),
                Node(name: "add", opType: "Add", inputs: ["s", "one"], outputs: ["a"]),
                Node(name: "mul", opType: "Mul", inputs: ["a", "a"], outputs: ["y"]),
            ],
            inputs: [ValueInfo(name: "x", elementType: .float, shape: nil)],
            outputs: [ValueInfo(name: "y", elementType: nil, shape: nil)],
            initializers: ["one": Tensor(shape: [1], int64s: [1])], opsetVersion: 13)
        let (fused, a, _) = try runBoth(graph, ["x": Tensor(shape: [2, 3, 4], floats: Array(repeating: 0, count: 24))])
        XCTAssertEqual(fused.report.fusedElementwiseOps, 2)
        XCTAssertEqual(a[0].int64s, [9, 16, 25])
    }

    /// A QuantizeLinear after the chain: the chain writes the 8-bit tensor itself.
    func testChainEndingInQuantizeLinearWritesTheSameBytes() throws {
        let graph = ModelGraph(
            name: "quantised", nodes: [
                Node(name: "scale", opType: "Mul", inputs: ["x", "k"], outputs: ["s"]),
                Node(name: "relu", opType: "Relu", inputs: ["s"], outputs: ["r"]),
                Node(name: "q", opType: "QuantizeLinear", inputs: ["r", "scale", "zp"], outputs: ["y"]),
            ],
            inputs: [ValueInfo(name: "x", elementType: .float, shape: nil)],
            outputs: [ValueInfo(name: "y", elementType: nil, shape: nil)],
            initializers: ["k": Tensor(shape: [1, 3, 1, 1], floats: [0.5, -1, 3]), "scale": .scalar(0.02),
                           "zp": Tensor(shape: [], storage: .uint8([7]))], opsetVersion: 13)
        let x = Tensor(shape: [2, 3, 70, 61], floats: Tensor.deterministic([2, 3, 70, 61], seed: 8).floats.map { $0 * 10 })
        let (fused, a, b) = try runBoth(graph, ["x": x])
        XCTAssertEqual(fused.report.fusedElementwiseOps, 3)
        XCTAssertEqual(a[0].elementType, .uint8)
        XCTAssertEqual(a[0].int64s, b[0].int64s)
        XCTAssertTrue(a[0].int64s.contains(255) && a[0].int64s.contains(7), "saturated and zero values both occur")
    }

    func testMagentaTransformerIsUnchangedByTheChains() throws {
        let model = ParityTests.models + "/arbitrary_transform.onnx"
        guard FileManager.default.fileExists(atPath: model) else { throw XCTSkip("no \(model)") }
        let graph = try ONNXImporter.load(path: model)
        let (h, w) = (64, 96)
        let photo = Tensor.deterministic([1, h, w, 3], seed: 9).floats.map { $0 * 0.5 + 0.5 }
        let style = Tensor.deterministic([1, 1, 1, 100], seed: 4).floats.map { $0 * 0.3 }
        let feeds = [graph.inputs[0].name: Tensor(shape: [1, h, w, 3], floats: photo),
                     graph.inputs[1].name: Tensor(shape: [1, 1, 1, 100], floats: style)]
        let sessions = try [true, false].map { on -> Session in
            Session.elementwiseChains = on
            let s = try Session(graph, threads: 2)
            s.acceptsAnyInputSize = true
            return s
        }
        Session.elementwiseChains = true
        XCTAssertGreaterThan(sessions[0].report.fusedElementwiseOps, 200)
        XCTAssertEqual(sessions[1].report.fusedElementwiseOps, 0)
        // Every Pad but the photo's (a Transpose reads its QuantizeLinear) and the 3 upsampling Resizes move 8-bit values.
        XCTAssertEqual(sessions[0].report.quantizedBeforeCopies, Session.integerConvolutions ? 15 + 3 : 0)
        let a = try XCTUnwrap(try sessions[0].run(feeds).values.first), b = try XCTUnwrap(try sessions[1].run(feeds).values.first)
        XCTAssertEqual(a.shape, [1, h, w, 3])
        XCTAssertEqual(a.floats, b.floats)
    }
}

/// Random chains of elementwise ops with every kind of operand (scalar, per channel, per batch and
/// channel, same shape, a row broadcast, a larger map, shapes that do not broadcast), fake
/// quantisations and a QuantizeLinear or GlobalAveragePool at the end: the fused session gives the
/// same bytes as the separate ops, or both refuse.
final class ElementwiseChainPropertyTests: XCTestCase {
    override func tearDown() { Session.elementwiseChains = true }

    func testRandomChainsMatchTheOps() throws {
        var rng = SeededRandom(seed: 2026_12_03)     // fixed: a failure names its ops and reproduces
        var seed: UInt64 = 0
        let shape = [2, 3, 9, 70]
        let operandShapes: [[Int]] = [[], [1], [1, 3, 1, 1], [2, 3, 1, 1], [3, 1, 1], shape, [1, 1, 9, 1], [1, 1, 1, 70], [1, 4, 1, 1]]
        var fusedRuns = 0
        for trial in 0..<150 {
            var nodes: [Node] = [], initializers: [String: Tensor] = [:], value = "x"
            let length = Int.random(in: 2...7, using: &rng)
            for i in 0..<length {
                let out = "v\(i)"
                switch Int.random(in: 0..<6, using: &rng) {
                case 0, 1:
                    let op = ["Add", "Sub", "Mul", "Div"].randomElement(using: &rng)!
                    let name = "c\(i)", s = operandShapes.randomElement(using: &rng)!
                    seed += 1
                    initializers[name] = Tensor(shape: s, floats: Tensor.deterministic([max(1, s.reduce(1, *))], seed: seed).floats
                        .prefix(s.reduce(1, *)).map { $0 + (op == "Div" ? 2 : 0) })
                    let inputs = Bool.random(using: &rng) ? [value, name] : [name, value]
                    nodes.append(Node(name: "n\(i)", opType: op, inputs: inputs, outputs: [out]))
                case 2: nodes.append(Node(name: "n\(i)", opType: "Mul", inputs: [value, value], outputs: [out]))
                case 3: nodes.append(Node(name: "n\(i)", opType: ["Relu", "Sigmoid", "Neg", "Abs"].randomElement(using: &rng)!,
                                          inputs: [value], outputs: [out]))
                default:
                    initializers["s\(i)"] = .scalar(Float.random(in: 0.01...0.1, using: &rng))
                    initializers["z\(i)"] = Tensor(shape: [], storage: .int8([Int8.random(in: -5...5, using: &rng)]))
                    nodes.append(Node(name: "q\(i)", opType: "QuantizeLinear", inputs: [value, "s\(i)", "z\(i)"], outputs: ["q\(i)"]))
                    nodes.append(Node(name: "dq\(i)", opType: "DequantizeLinear", inputs: ["q\(i)", "s\(i)", "z\(i)"], outputs: [out]))
                }
                value = out
            }
            switch trial % 3 {
            case 0:
                initializers["ys"] = .scalar(0.05)
                initializers["yz"] = Tensor(shape: [], storage: .uint8([128]))
                nodes.append(Node(name: "y", opType: "QuantizeLinear", inputs: [value, "ys", "yz"], outputs: ["y"]))
            case 1: nodes.append(Node(name: "y", opType: "GlobalAveragePool", inputs: [value], outputs: ["y"]))
            default: nodes.append(Node(name: "y", opType: "Identity", inputs: [value], outputs: ["y"]))
            }
            let graph = ModelGraph(name: "random", nodes: nodes, inputs: [ValueInfo(name: "x", elementType: .float, shape: nil)],
                                   outputs: [ValueInfo(name: "y", elementType: nil, shape: nil)], initializers: initializers, opsetVersion: 13)
            seed += 1
            let x = Tensor(shape: shape, floats: Tensor.deterministic(shape, seed: seed).floats.map { $0 * 4 })
            func outcome(_ chains: Bool) -> Result<Tensor, Error> {
                Session.elementwiseChains = chains
                return Result { try Session(graph, threads: 2).run(["x": x])["y"]! }
            }
            let fused = outcome(true), separate = outcome(false)
            Session.elementwiseChains = true
            let ops = nodes.map(\.opType).joined(separator: " → ")
            switch (fused, separate) {
            case (.success(let a), .success(let b)):
                fusedRuns += 1
                XCTAssertEqual(a.shape, b.shape, ops)
                XCTAssertEqual(a.elementType, b.elementType, ops)
                if a.elementType == .float {
                    XCTAssertEqual(a.floats.map(\.bitPattern), b.floats.map(\.bitPattern), ops)
                } else {
                    XCTAssertEqual(a.int64s, b.int64s, ops)
                }
            case (.failure(let a), .failure(let b)):
                // The chain names the op that refused, as the separate op does.
                let op = "\(b)".components(separatedBy: "'").dropFirst().first ?? "?"
                XCTAssertTrue("\(a)".contains("'\(op)'"), "\(a) vs \(b)")
            default: XCTFail("one refused, the other ran: \(ops) — fused \(fused), separate \(separate)")
            }
        }
        XCTAssertGreaterThan(fusedRuns, 20, "most random chains broadcast")
    }
}
