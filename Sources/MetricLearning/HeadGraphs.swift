import CNNRuntime
import Foundation

/// The heads as CNNRuntime graphs, so `GradientSession` differentiates them for training.
enum HeadGraphs {
    /// Added to ‖W·x‖² before the square root (a zero row stays finite).
    static let epsilon: Float = 1e-12

    static let input = "embeddings", transformName = "W", normalised = "f"
    static let left = "a", right = "b", weightsName = "w", biasName = "bias", logit = "logit", probability = "p"

    /// F = normalise(X · Wᵀ) for X [N, 128]: MatMul, then Mul, ReduceSum, Add ε, Sqrt, Div per row.
    /// The parameter W starts as `transform` (identity when nil).
    static func triplet(transform: [Float]?) -> ModelGraph {
        let d = MetricHead.dimension
        var w = transform ?? [Float](repeating: 0, count: d * d)
        if transform == nil { for i in 0..<d { w[i * d + i] = 1 } }
        // MatMul takes Wᵀ (X · Wᵀ), so the initializer holds W and a Transpose feeds the product.
        let nodes = [
            Node(name: "transpose", opType: "Transpose", inputs: [transformName], outputs: ["Wt"], attributes: ["perm": .ints([1, 0])]),
            Node(name: "linear", opType: "MatMul", inputs: [input, "Wt"], outputs: ["y"]),
            Node(name: "square", opType: "Mul", inputs: ["y", "y"], outputs: ["y2"]),
            Node(name: "sum", opType: "ReduceSum", inputs: ["y2", "axes"], outputs: ["ss"], attributes: ["keepdims": .int(1)]),
            Node(name: "eps", opType: "Add", inputs: ["ss", "epsilon"], outputs: ["ss_eps"]),
            Node(name: "norm", opType: "Sqrt", inputs: ["ss_eps"], outputs: ["norm"]),
            Node(name: "normalise", opType: "Div", inputs: ["y", "norm"], outputs: [normalised]),
        ]
        return ModelGraph(name: "triplet-head", nodes: nodes,
                          inputs: [ValueInfo(name: input, elementType: .float, shape: [nil, d])],
                          outputs: [ValueInfo(name: normalised, elementType: .float, shape: [nil, d])],
                          initializers: [transformName: Tensor(shape: [d, d], floats: w),
                                         "axes": Tensor(shape: [1], int64s: [1]),
                                         "epsilon": .scalar(epsilon)],
                          opsetVersion: 17)
    }

    /// logit = |A − B| · w + bias for pairs (A, B) [N, 128] each, and p = σ(logit): Sub, Abs, Gemm, Sigmoid.
    static func verifier(_ start: MetricHead.Verifier?) -> ModelGraph {
        let d = MetricHead.dimension
        let weights = start?.weights ?? [Float](repeating: 0, count: d)
        let nodes = [
            Node(name: "difference", opType: "Sub", inputs: [left, right], outputs: ["diff"]),
            Node(name: "absolute", opType: "Abs", inputs: ["diff"], outputs: ["absdiff"]),
            Node(name: "logistic", opType: "Gemm", inputs: ["absdiff", weightsName, biasName], outputs: [logit]),
            Node(name: "sigmoid", opType: "Sigmoid", inputs: [logit], outputs: [probability]),
        ]
        return ModelGraph(name: "verification-head", nodes: nodes,
                          inputs: [ValueInfo(name: left, elementType: .float, shape: [nil, d]),
                                   ValueInfo(name: right, elementType: .float, shape: [nil, d])],
                          outputs: [ValueInfo(name: probability, elementType: .float, shape: [nil, 1])],
                          initializers: [weightsName: Tensor(shape: [d, 1], floats: weights),
                                         biasName: Tensor(shape: [1], floats: [start?.bias ?? 0])],
                          opsetVersion: 17)
    }
}
