import CNNRuntime
import XCTest

/// Receptive fields from the graph against hand-computed values (rf_out = rf_in + (k_eff − 1)·jump,
/// jump_out = jump_in·stride, start_out = start_in − pad·jump_in; k_eff = d(k − 1) + 1).
final class ReceptiveFieldTests: XCTestCase {
    private func conv(_ name: String, _ input: String, k: Int, s: Int = 1, p: Int = 0, d: Int = 1, channels: Int = 1) -> Node {
        Node(name: name, opType: "Conv", inputs: [input, name + ".w"], outputs: [name],
             attributes: ["kernel_shape": .ints([k, k]), "strides": .ints([s, s]), "pads": .ints([p, p, p, p]),
                          "dilations": .ints([d, d])])
    }

    private func graph(_ nodes: [Node], channels: [String: (Int, Int, Int)] = [:]) -> ModelGraph {
        var initializers: [String: Tensor] = [:]
        for n in nodes where n.opType == "Conv" {
            guard case .ints(let k)? = n.attributes["kernel_shape"] else { continue }
            let (out, inp, _) = channels[n.name] ?? (1, n.inputs[0] == "image" ? 3 : 1, 0)
            initializers[n.name + ".w"] = Tensor(shape: [out, inp, k[0], k[1]], floats: Array(repeating: 0.1, count: out * inp * k[0] * k[1]))
        }
        return ModelGraph(name: "stack", nodes: nodes, inputs: [ValueInfo(name: "image", elementType: .float, shape: [1, 3, nil, nil])],
                          outputs: [ValueInfo(name: nodes.last!.outputs[0], elementType: .float, shape: nil)],
                          initializers: initializers, opsetVersion: 17)
    }

    private func field(_ g: ModelGraph, _ value: String, size: Int = 64) throws -> ReceptiveField {
        let a = try ReceptiveFieldAnalysis(g, height: size, width: size)
        return try XCTUnwrap(a[value]?.field, "no field for \(value)")
    }

    func testThreeByThreeStack() throws {
        // Three 3x3 convs, stride 1, pad 1: fields 3, 5, 7; start −1, −2, −3.
        let g = graph([conv("c1", "image", k: 3, p: 1), conv("c2", "c1", k: 3, p: 1), conv("c3", "c2", k: 3, p: 1)])
        XCTAssertEqual(try field(g, "c1").x, .init(jump: 1, size: 3, start: -1))
        XCTAssertEqual(try field(g, "c2").x, .init(jump: 1, size: 5, start: -2))
        XCTAssertEqual(try field(g, "c3").y, .init(jump: 1, size: 7, start: -3))
    }

    func testStrideTwoAndPooling() throws {
        // 7x7/2 pad 3 (rf 7, jump 2, start −3); maxpool 3x3/2 pad 1 (rf 7 + 2·2 = 11, jump 4, start −3 − 2 = −5);
        // 3x3/1 pad 1 (rf 11 + 2·4 = 19, jump 4, start −9).
        var nodes = [conv("c1", "image", k: 7, s: 2, p: 3)]
        nodes.append(Node(name: "pool", opType: "MaxPool", inputs: ["c1"], outputs: ["pool"],
                          attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]))
        nodes.append(conv("c2", "pool", k: 3, p: 1))
        let g = graph(nodes)
        XCTAssertEqual(try field(g, "c1").x, .init(jump: 2, size: 7, start: -3))
        XCTAssertEqual(try field(g, "pool").x, .init(jump: 4, size: 11, start: -5))
        XCTAssertEqual(try field(g, "c2").x, .init(jump: 4, size: 19, start: -9))
        let a = try ReceptiveFieldAnalysis(g, height: 64, width: 48)
        XCTAssertEqual(a["c2"]?.height, 16)
        XCTAssertEqual(a["c2"]?.width, 12)
    }

    func testDilatedConvolutions() throws {
        // 3x3 dilation 2 (k_eff 5): rf 5; then 3x3 dilation 4 (k_eff 9): rf 13; a stride-2 3x3 then a
        // dilation-2 3x3 after it: rf 13 + 2 = 15 (jump 1 → 2), then 15 + 4·2 = 23.
        let g = graph([conv("d2", "image", k: 3, p: 2, d: 2), conv("d4", "d2", k: 3, p: 4, d: 4),
                       conv("s2", "d4", k: 3, s: 2, p: 1), conv("d2b", "s2", k: 3, p: 2, d: 2)])
        XCTAssertEqual(try field(g, "d2").x, .init(jump: 1, size: 5, start: -2))
        XCTAssertEqual(try field(g, "d4").x, .init(jump: 1, size: 13, start: -6))
        XCTAssertEqual(try field(g, "s2").x, .init(jump: 2, size: 15, start: -7))
        XCTAssertEqual(try field(g, "d2b").x, .init(jump: 2, size: 23, start: -11))
    }

    func testSamePaddingAndResidualUnion() throws {
        // SAME_UPPER 3x3/2 on an even size pads 0 before (total 1): start 0; on an odd size 1.
        var down = conv("down", "image", k: 3, s: 2)
        down.attributes["pads"] = nil
        down.attributes["auto_pad"] = .string("SAME_UPPER")
        let g1 = graph([down])
        XCTAssertEqual(try field(g1, "down", size: 64).x, .init(jump: 2, size: 3, start: 0))
        XCTAssertEqual(try field(g1, "down", size: 65).x, .init(jump: 2, size: 3, start: -1))
        // A residual block: branch of two 3x3 (rf 5) added to the identity (rf 1): the union, rf 5.
        let g2 = graph([conv("a", "image", k: 3, p: 1, channels: 3), conv("b", "a", k: 3, p: 1),
                        Node(name: "sum", opType: "Add", inputs: ["b", "image"], outputs: ["sum"]),
                        Node(name: "relu", opType: "Relu", inputs: ["sum"], outputs: ["relu"])],
                       channels: ["a": (3, 3, 0), "b": (3, 3, 0)])
        XCTAssertEqual(try field(g2, "relu").x, .init(jump: 1, size: 5, start: -2))
    }

    func testGlobalPoolingSeesEverything() throws {
        let g = graph([conv("c", "image", k: 3, s: 2, p: 1),
                       Node(name: "gap", opType: "GlobalAveragePool", inputs: ["c"], outputs: ["gap"])])
        // 32 units 2 apart, each 3 wide from −1: −1 … 62 + 3 − 1 = 64 → size 65.
        XCTAssertEqual(try field(g, "gap").x, .init(jump: 64, size: 65, start: -1))
    }

    func testRectangleOfAUnit() {
        let f = ReceptiveField(y: .init(jump: 4, size: 19, start: -9), x: .init(jump: 2, size: 7, start: -3))
        let r = f.rectangle(row: 3, column: 5)
        XCTAssertEqual(r.x, 7); XCTAssertEqual(r.y, 3); XCTAssertEqual(r.width, 7); XCTAssertEqual(r.height, 19)
    }
}
