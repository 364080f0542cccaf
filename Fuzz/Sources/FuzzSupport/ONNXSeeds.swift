import CNNRuntime
import Foundation

/// Small models covering the op families, written with the runtime's own exporter.
public enum ONNXSeeds {
    static func graph(_ nodes: [Node], input: [Int?] = [1, 2, 6, 6], initializers: [String: Tensor] = [:]) -> ModelGraph {
        ModelGraph(name: "seed", nodes: nodes, inputs: [ValueInfo(name: "x", elementType: .float, shape: input)],
                   outputs: [ValueInfo(name: "y", elementType: nil, shape: nil)], initializers: initializers, opsetVersion: 17)
    }

    static func ints(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64s: v) }

    public static func all() throws -> [String: Data] {
        let w = Tensor(shape: [2, 2, 3, 3], floats: (0..<36).map { Float($0 % 5) / 5 - 0.4 })
        let b = Tensor(shape: [2], floats: [0.1, -0.1])
        let models: [String: ModelGraph] = [
            "conv-relu-pool": graph([Node(name: "c", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["a"],
                                          attributes: ["pads": .ints([1, 1, 1, 1]), "strides": .ints([1, 1])]),
                                     Node(name: "r", opType: "Relu", inputs: ["a"], outputs: ["p"]),
                                     Node(name: "m", opType: "MaxPool", inputs: ["p"], outputs: ["q"],
                                          attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])]),
                                     Node(name: "g", opType: "GlobalAveragePool", inputs: ["q"], outputs: ["y"])],
                                    initializers: ["w": w, "b": b]),
            "convtranspose-instancenorm": graph([
                Node(name: "t", opType: "ConvTranspose", inputs: ["x", "w"], outputs: ["a"], attributes: ["strides": .ints([2, 2])]),
                Node(name: "n", opType: "InstanceNormalization", inputs: ["a", "s", "b"], outputs: ["y"])],
                initializers: ["w": w, "s": Tensor(shape: [2], floats: [1, 2]), "b": b]),
            "shape-arithmetic": graph([
                Node(name: "s", opType: "Shape", inputs: ["x"], outputs: ["s"]),
                Node(name: "g", opType: "Gather", inputs: ["s", "i"], outputs: ["d"]),
                Node(name: "c", opType: "Concat", inputs: ["one", "d"], outputs: ["shape"], attributes: ["axis": .int(0)]),
                Node(name: "k", opType: "ConstantOfShape", inputs: ["shape"], outputs: ["k"]),
                Node(name: "r", opType: "Reshape", inputs: ["x", "flat"], outputs: ["f"]),
                Node(name: "u", opType: "Unsqueeze", inputs: ["f", "axes"], outputs: ["y"])],
                initializers: ["i": ints([2]), "one": ints([1]), "flat": ints([1, -1]), "axes": ints([0])]),
            "pad-resize-slice": graph([
                Node(name: "p", opType: "Pad", inputs: ["x", "pads"], outputs: ["a"], attributes: ["mode": .string("reflect")]),
                Node(name: "r", opType: "Resize", inputs: ["a", "", "scales"], outputs: ["b"], attributes: ["mode": .string("linear")]),
                Node(name: "s", opType: "Slice", inputs: ["b", "st", "en", "ax", "sp"], outputs: ["c"]),
                Node(name: "t", opType: "Transpose", inputs: ["c"], outputs: ["y"], attributes: ["perm": .ints([0, 1, 3, 2])])],
                initializers: ["pads": ints([0, 0, 1, 2, 0, 0, 2, 1]), "scales": Tensor(shape: [4], floats: [1, 1, 1.5, 0.5]),
                               "st": ints([1, -1]), "en": ints([100, -100]), "ax": ints([2, 3]), "sp": ints([2, -1])]),
            "matmul-gemm-softmax": graph([
                Node(name: "f", opType: "Flatten", inputs: ["x"], outputs: ["f"]),
                Node(name: "g", opType: "Gemm", inputs: ["f", "m", "c"], outputs: ["g"], attributes: ["transB": .int(1)]),
                Node(name: "mm", opType: "MatMul", inputs: ["g", "n"], outputs: ["h"]),
                Node(name: "s", opType: "Softmax", inputs: ["h"], outputs: ["y"], attributes: ["axis": .int(-1)])],
                initializers: ["m": Tensor(shape: [4, 72], floats: (0..<288).map { Float($0 % 9) / 9 }),
                               "c": Tensor(shape: [4], floats: [0, 1, 2, 3]), "n": Tensor(shape: [4, 3], floats: (0..<12).map(Float.init))]),
            "elementwise-reduce-qdq": graph([
                Node(name: "a", opType: "Add", inputs: ["x", "k"], outputs: ["a"]),
                Node(name: "m", opType: "Mul", inputs: ["a", "k"], outputs: ["m"]),
                Node(name: "q", opType: "QuantizeLinear", inputs: ["m", "qs", "qz"], outputs: ["q"]),
                Node(name: "d", opType: "DequantizeLinear", inputs: ["q", "qs", "qz"], outputs: ["d"]),
                Node(name: "r", opType: "ReduceMean", inputs: ["d"], outputs: ["r"], attributes: ["axes": .ints([2, 3])]),
                Node(name: "c", opType: "Clip", inputs: ["r", "lo", "hi"], outputs: ["y"])],
                initializers: ["k": Tensor(shape: [1, 2, 1, 1], floats: [0.5, 2]), "qs": .scalar(0.05),
                               "qz": Tensor(shape: [], storage: .uint8([128])), "lo": .scalar(0), "hi": .scalar(6)]),
            "batchnorm-sigmoid-1d": graph([
                Node(name: "c", opType: "Conv", inputs: ["x", "w1"], outputs: ["a"], attributes: ["group": .int(2)]),
                Node(name: "n", opType: "BatchNormalization", inputs: ["a", "s", "b", "m", "v"], outputs: ["n"]),
                Node(name: "p", opType: "AveragePool", inputs: ["n"], outputs: ["p"], attributes: ["kernel_shape": .ints([2]), "ceil_mode": .int(1)]),
                Node(name: "s", opType: "Sigmoid", inputs: ["p"], outputs: ["y"])],
                input: [1, 2, nil],
                initializers: ["w1": Tensor(shape: [2, 1, 3], floats: [1, 0, -1, 0.5, 0.5, 0.5]), "s": Tensor(shape: [2], floats: [1, 1]),
                               "b": b, "m": Tensor(shape: [2], floats: [0, 0]), "v": Tensor(shape: [2], floats: [1, 1])]),
        ]
        return try models.mapValues { try ONNXExporter.serialize($0) }
    }
}
