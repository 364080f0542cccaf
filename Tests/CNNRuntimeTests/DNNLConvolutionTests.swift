import XCTest
import CConvKernels
@testable import CNNRuntime

/// The oneDNN convolutions against the im2col + sgemm path on the same inputs: grouped, depthwise,
/// strided, dilated, asymmetrically padded, 1D, with bias and fused Relu / Clip, in both layouts,
/// with constant weights and with weights fed at run time.
final class DNNLConvolutionTests: XCTestCase {
    struct Case {
        let name: String
        let input: [Int]
        let weights: [Int]
        var attributes: [String: Attribute] = [:]
        var bias = true
        var activation: String? = nil       // "Relu" or "Clip"
        var weightsAsInput = false
    }

    static let cases: [Case] = [
        Case(name: "grouped 3x3 pad 1 bias relu", input: [1, 8, 17, 19], weights: [12, 4, 3, 3],
             attributes: ["group": .int(2), "pads": .ints([1, 1, 1, 1])], activation: "Relu"),
        Case(name: "strided 3x3 asymmetric pads", input: [2, 5, 20, 15], weights: [7, 5, 3, 3],
             attributes: ["strides": .ints([2, 2]), "pads": .ints([1, 0, 2, 1])]),
        Case(name: "dilated 3x3 clip", input: [1, 6, 21, 18], weights: [9, 6, 3, 3],
             attributes: ["dilations": .ints([2, 3]), "pads": .ints([2, 3, 2, 3])], activation: "Clip"),
        Case(name: "depthwise stride 2", input: [1, 16, 25, 25], weights: [16, 1, 3, 3],
             attributes: ["group": .int(16), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], activation: "Relu"),
        Case(name: "9x9 like multistyle's first layer", input: [1, 3, 40, 36], weights: [32, 3, 9, 9],
             attributes: ["pads": .ints([4, 4, 4, 4])], activation: "Relu"),
        Case(name: "1x1 no bias", input: [1, 32, 13, 11], weights: [16, 32, 1, 1], bias: false),
        Case(name: "SAME_UPPER stride 2", input: [1, 4, 15, 16], weights: [8, 4, 4, 4],
             attributes: ["strides": .ints([2, 2]), "auto_pad": .string("SAME_UPPER")]),
        Case(name: "1D", input: [2, 6, 50], weights: [10, 3, 5],
             attributes: ["group": .int(2), "pads": .ints([2, 1]), "strides": .ints([2])], activation: "Relu"),
        Case(name: "weights fed at run time", input: [1, 16, 18, 18], weights: [32, 16, 3, 3],
             attributes: ["pads": .ints([1, 1, 1, 1])], activation: "Relu", weightsAsInput: true),
    ]

    override func setUpWithError() throws {
        guard DNNL.library != nil else { throw XCTSkip("oneDNN (libdnnl.so.2) is not installed") }
    }

    func testOneDNNMatchesIm2colPathInBothLayouts() throws {
        let saved = (DNNL.enabled, DNNL.layout, DNNL.smallMaps)
        defer { (DNNL.enabled, DNNL.layout, DNNL.smallMaps) = saved }
        DNNL.smallMaps = false      // the reference runs take the runtime's own paths only
        for c in Self.cases {
            DNNL.enabled = false
            let expected = try run(c)
            for layout in [DNNL.Layout.plain, .blocked] {
                DNNL.enabled = true
                DNNL.layout = layout
                // Twice: the second run takes the cached primitive (and cached reordered weights).
                for pass in 1...2 {
                    let got = try run(c)
                    XCTAssertEqual(got.shape, expected.shape, c.name)
                    let worst = zip(got.floats, expected.floats).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                    XCTAssertLessThanOrEqual(worst, 1e-4, "\(c.name), \(layout) layout, run \(pass)")
                }
            }
        }
    }

    func testOneDNNIsUsedAndCachesOnePrimitivePerShape() throws {
        let saved = DNNL.enabled
        defer { DNNL.enabled = saved }
        DNNL.enabled = true
        let kernel = try XCTUnwrap(try OpRegistry.kernel(for: node(Self.cases[0]), opset: 13) as? ConvKernel)
        let c = Self.cases[0]
        let inputs = [Tensor.deterministic(c.input, seed: 1), Tensor.deterministic(c.weights, seed: 2), Tensor.deterministic([c.weights[0]], seed: 3)]
        let ctx = ExecutionContext(threads: 2)
        _ = try kernel.run(inputs, ctx)
        _ = try kernel.run(inputs, ctx)
        XCTAssertEqual(kernel.oneDNN.count, 1)
    }

    /// oneDNN fixes a primitive's OpenMP threads when it makes it, so a run that got one thread and a
    /// run that got two use different primitives (before, every primitive made after the first one-thread
    /// execution ran on one thread, even with two to use); both give the same output.
    func testEachThreadCountGetsItsOwnPrimitive() throws {
        let saved = (DNNL.enabled, ThreadLender.current)
        defer { (DNNL.enabled, ThreadLender.current) = saved }
        DNNL.enabled = true
        let c = Self.cases[0]
        let kernel = try XCTUnwrap(try OpRegistry.kernel(for: node(c), opset: 13) as? ConvKernel)
        let inputs = [Tensor.deterministic(c.input, seed: 1), Tensor.deterministic(c.weights, seed: 2), Tensor.deterministic([c.weights[0]], seed: 3)]
        ThreadLender.current = ThreadLender(borrow: { _ in 0 }, giveBack: { _ in })   // every thread busy
        let alone = try kernel.run(inputs, ExecutionContext(threads: 2))[0]
        XCTAssertEqual(kernel.oneDNN.count, 1)
        ThreadLender.current = .unlimited
        let both = try kernel.run(inputs, ExecutionContext(threads: 2))[0]
        XCTAssertEqual(kernel.oneDNN.count, 2, "one primitive per thread count")
        _ = try kernel.run(inputs, ExecutionContext(threads: 2))
        XCTAssertEqual(kernel.oneDNN.count, 2)
        let worst = zip(alone.floats, both.floats).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-5)
    }

    /// Batches on small maps run 3×3 stride-1 layers as Winograd (where oneDNN has the kernel; else
    /// direct): the same output as im2col within 1e-4, with and without it.
    func testBatchedSmallMapsWithWinogradMatchIm2col() throws {
        let saved = (DNNL.enabled, DNNL.smallMaps, DNNL.winograd)
        defer { (DNNL.enabled, DNNL.smallMaps, DNNL.winograd) = saved }
        DNNL.enabled = false
        let node = Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attributes: ["pads": .ints([1, 1, 1, 1])])
        let inputs = [Tensor.deterministic([3, 64, 17, 17], seed: 1), Tensor.deterministic([64, 64, 3, 3], seed: 2),
                      Tensor.deterministic([64], seed: 3)]
        for winograd in [true, false] {
            DNNL.winograd = winograd
            let (worst, primitives) = try defaultRouteAgainstOwnPaths(node, inputs)
            XCTAssertEqual(primitives, 1)
            XCTAssertLessThanOrEqual(worst, 1e-4, "winograd \(winograd)")
        }
    }

    /// The node on the default oneDNN route (`smallMaps`) against the runtime's own paths: the largest
    /// relative difference, and how many oneDNN primitives the route made.
    private func defaultRouteAgainstOwnPaths(_ node: Node, _ inputs: [Tensor]) throws -> (worst: Float, primitives: Int) {
        let saved = DNNL.smallMaps
        defer { DNNL.smallMaps = saved }
        DNNL.smallMaps = false
        let expected = try OpRegistry.kernel(for: node, opset: 13).run(inputs, ExecutionContext(threads: 2))[0]
        DNNL.smallMaps = true
        let kernel = try XCTUnwrap(try OpRegistry.kernel(for: node, opset: 13) as? ConvKernel)
        let got = try kernel.run(inputs, ExecutionContext(threads: 2))[0]
        XCTAssertEqual(got.shape, expected.shape)
        return (zip(got.floats, expected.floats).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0, kernel.oneDNN.count)
    }

    /// Stride-2 layers with kernels of 3×3 and up that the direct kernels do not take go to oneDNN by
    /// default (MMOD's 16→32 5×5 ones at 33 output columns); a thin one stays on the direct AVX-512 kernel
    /// (oneDNN on AVX2, which has no stride-2 direct kernel); a 2×2 stride-2 layer never goes to oneDNN.
    /// Either way the same output as the runtime's own paths within 1e-4.
    func testStridedLayersGoToOneDNNUnlessTheDirectKernelsTakeThem() throws {
        let saved = (DNNL.enabled, DNNL.smallMaps)
        defer { (DNNL.enabled, DNNL.smallMaps) = saved }
        DNNL.enabled = false
        let thinIsDirect = DirectConv.isa == Int32(CP_ISA_AVX512) && DirectConv.mode != .off
        for (weights, oneDNN) in [([32, 16, 5, 5], true), ([8, 16, 3, 3], !thinIsDirect), ([8, 16, 2, 2], false)] {
            let node = Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: ["strides": .ints([2, 2])])
            let inputs = [Tensor.deterministic([1, 16, 41, 70], seed: 1), Tensor.deterministic(weights, seed: 2)]
            let (worst, primitives) = try defaultRouteAgainstOwnPaths(node, inputs)
            XCTAssertEqual(primitives, oneDNN ? 1 : 0, "\(weights)")
            XCTAssertLessThanOrEqual(worst, 1e-4, "\(weights)")
        }
    }

    /// Without CNNPIPE_DNNL, oneDNN takes the layers of dlib's face ResNet (small maps, ≥ 32 channels)
    /// and nothing with a larger map or fewer channels; its output matches the im2col path's.
    func testSmallMapsWithManyChannelsGoToOneDNN() throws {
        let saved = (DNNL.enabled, DNNL.smallMaps)
        defer { (DNNL.enabled, DNNL.smallMaps) = saved }
        DNNL.enabled = false
        let shapes: [(input: [Int], weights: [Int], oneDNN: Bool)] = [
            ([1, 32, 36, 36], [32, 32, 3, 3], true),        // res1: 36² with 1 pixel of padding
            ([1, 128, 9, 9], [256, 128, 3, 3], true),
            ([1, 32, 64, 64], [32, 32, 3, 3], false),       // 4096 output pixels
            ([1, 16, 20, 20], [64, 16, 3, 3], false),       // 16 input channels
        ]
        for shape in shapes {
            let node = Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: ["pads": .ints([1, 1, 1, 1])])
            let inputs = [Tensor.deterministic(shape.input, seed: 1), Tensor.deterministic(shape.weights, seed: 2)]
            let (worst, primitives) = try defaultRouteAgainstOwnPaths(node, inputs)
            XCTAssertEqual(primitives, shape.oneDNN ? 1 : 0, "\(shape.input) ⊛ \(shape.weights)")
            XCTAssertLessThanOrEqual(worst, 1e-4, "\(shape.input) ⊛ \(shape.weights)")
        }
    }

    private func node(_ c: Case) -> Node {
        Node(name: "conv", opType: "Conv", inputs: ["x", "w"] + (c.bias ? ["b"] : []),
             outputs: [c.activation == nil ? "y" : "conv_out"], attributes: c.attributes)
    }

    /// The case as a one- or two-node model through a Session (so Relu / Clip are fused into the Conv).
    private func run(_ c: Case) throws -> Tensor {
        var nodes = [node(c)]
        var initializers: [String: Tensor] = [:]
        if c.bias { initializers["b"] = Tensor.deterministic([c.weights[0]], seed: 3) }
        if c.activation == "Relu" { nodes.append(Node(name: "act", opType: "Relu", inputs: ["conv_out"], outputs: ["y"])) }
        if c.activation == "Clip" {
            nodes.append(Node(name: "act", opType: "Clip", inputs: ["conv_out", "lo", "hi"], outputs: ["y"]))
            initializers["lo"] = .scalar(-0.5)
            initializers["hi"] = .scalar(0.75)
        }
        var inputs = [ValueInfo(name: "x", elementType: .float, shape: c.input)]
        var feeds = ["x": Tensor.deterministic(c.input, seed: 1)]
        if c.weightsAsInput {
            inputs.append(ValueInfo(name: "w", elementType: .float, shape: c.weights))
            feeds["w"] = Tensor.deterministic(c.weights, seed: 2)
        } else {
            initializers["w"] = Tensor.deterministic(c.weights, seed: 2)
        }
        let graph = ModelGraph(name: c.name, nodes: nodes, inputs: inputs,
                               outputs: [ValueInfo(name: "y", elementType: .float, shape: nil)],
                               initializers: initializers, opsetVersion: 13)
        let session = try Session(graph, threads: 2)
        if c.activation != nil { XCTAssertEqual(session.report.fusedActivations, 1, c.name) }
        let y = try XCTUnwrap(try session.run(feeds)["y"])
        let conv = try XCTUnwrap(session.steps.lazy.compactMap { $0.kernel as? ConvKernel }.first)
        XCTAssertEqual(conv.oneDNN.count, DNNL.enabled ? 1 : 0, "\(c.name): oneDNN primitives")
        return y
    }
}
