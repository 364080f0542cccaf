import Foundation

/// Reverse-mode differentiation of a model. `forward` runs the prepared graph (folded and fused like
/// any `Session`) keeping every value on a tape; `backward` walks the steps in reverse, each op's
/// derivative turning the gradients of its outputs into gradients of its inputs, and returns the
/// gradients of the requested inputs and parameters.
///
/// Parameters are initializers to differentiate (weights, for training): they become inputs of the
/// prepared graph, so constant folding keeps them, and their current values live here.
/// `outputs` may name any values of the graph (a middle layer's activations, for example).
public final class GradientSession: @unchecked Sendable {
    public let session: Session
    public let parameterNames: [String]
    public private(set) var parameters: [String: Tensor]

    /// Values of one forward pass: the requested outputs, and every value for `backward`.
    public struct Tape {
        public let outputs: [String: Tensor]
        let values: [Tensor?]
    }

    /// Quantised activations (QuantizeLinear → DequantizeLinear on values computed at run time):
    /// `straightThrough` keeps the rounding in the forward pass and passes gradients through it
    /// unchanged (quantisation-aware training); `removed` runs those values in float, which makes the
    /// function smooth — what optimising an input needs (rounded activations make the cost piecewise
    /// constant, so no line search sees it decrease).
    public enum ActivationQuantization: Sendable { case straightThrough, removed }

    public init(_ graph: ModelGraph, outputs: [String], parameters: [String] = [],
                activationQuantization: ActivationQuantization = .straightThrough,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        var g = activationQuantization == .removed ? Self.withoutActivationQuantization(graph) : graph
        var values: [String: Tensor] = [:]
        for name in parameters {
            guard let t = g.initializers.removeValue(forKey: name) else {
                throw ModelError("parameter '\(name)' is not an initializer of the model")
            }
            guard t.elementType == .float else { throw ModelError("parameter '\(name)' is \(t.elementType), not float32") }
            values[name] = t
            g.inputs.append(ValueInfo(name: name, elementType: .float, shape: t.shape.map { $0 }))
        }
        g.outputs = outputs.map { ValueInfo(name: $0, elementType: nil, shape: nil) }
        session = try Session(g, threads: threads, precision: .fp32, fusingAcrossOps: false)
        parameterNames = parameters
        self.parameters = values
    }

    public func setParameter(_ name: String, _ value: Tensor) throws {
        guard let old = parameters[name] else { throw ModelError("'\(name)' is not a parameter") }
        guard old.shape == value.shape else { throw ModelError("parameter '\(name)' has shape \(old.shape), got \(value.shape)") }
        parameters[name] = value
    }

    public func forward(_ feeds: [String: Tensor], context: ExecutionContext? = nil) throws -> Tape {
        var all = feeds
        for (name, t) in parameters { all[name] = t }
        let values = try session.execute(all, context: context, keepAll: true)
        var outputs: [String: Tensor] = [:]
        for (name, s) in session.outputSlots {
            guard let t = values[s] else { throw ModelError("output '\(name)' was not computed") }
            outputs[name] = t
        }
        return Tape(outputs: outputs, values: values)
    }

    /// Gradients of the loss L with respect to `wrt` (input or parameter names), given `seeds`: the
    /// gradient ∂L/∂v of each output v the loss depends on (same shape as v). A requested value the
    /// loss does not depend on gets a zero gradient.
    public func backward(_ tape: Tape, seeds: [String: Tensor], wrt: [String],
                         context: ExecutionContext? = nil) throws -> [String: Tensor] {
        // The session's pool: the gradients have the activations' shapes, so the buffers the last
        // evaluation gave back serve this one (a fresh pool page-faulted every buffer in again).
        let ctx = context ?? ExecutionContext(pool: session.pool, threads: session.threads)
        var targets: [Int] = []
        for name in wrt {
            guard let s = session.slots[name], session.inputSlots.contains(where: { $0.1 == s }) else {
                throw ModelError("cannot differentiate with respect to '\(name)': not an input or parameter")
            }
            targets.append(s)
        }
        // Values that depend on a target: only their gradients are needed.
        var depends = Set(targets)
        for step in session.steps where step.inputs.contains(where: { $0.map(depends.contains) ?? false }) {
            depends.formUnion(step.outputs)
        }
        var grads = [Tensor?](repeating: nil, count: tape.values.count)
        for (name, g) in seeds {
            guard let s = session.slots[name], let v = tape.values[s] else { throw ModelError("no value '\(name)' to seed") }
            guard g.shape == v.shape else { throw ModelError("seed for '\(name)' has shape \(g.shape), the value \(v.shape)") }
            grads[s] = try accumulate(grads[s], g, ctx)
        }
        for step in session.steps.reversed() {
            let gradOutputs = step.outputs.map { grads[$0] }
            guard gradOutputs.contains(where: { $0 != nil }) else { continue }
            let needs = step.inputs.map { $0.map(depends.contains) ?? false }
            guard needs.contains(true) else { continue }
            let ins = step.inputs.map { $0.flatMap { tape.values[$0] } }
            let outs = step.outputs.map { tape.values[$0]! }
            let gradInputs: [Tensor?]
            do {
                gradInputs = try Derivatives.backward(step, ins, outs, gradOutputs, needs: needs, ctx)
            } catch {
                throw ModelError("gradient of node '\(step.node.name)' (\(step.node.opType)): \(error)")
            }
            for (i, g) in gradInputs.enumerated() {
                guard let g, needs[i], let s = step.inputs[i] else { continue }
                grads[s] = try accumulate(grads[s], g, ctx)
            }
            for s in step.outputs where !targets.contains(s) { grads[s] = nil }
        }
        var result: [String: Tensor] = [:]
        for (name, s) in zip(wrt, targets) {
            if let g = grads[s] { result[name] = g; continue }
            let shape = tape.values[s]?.shape ?? []
            result[name] = Tensor(shape: shape, floats: [Float](repeating: 0, count: shape.reduce(1, *)))
        }
        return result
    }

    /// Every QuantizeLinear of a run-time value becomes an Identity, and so does every
    /// DequantizeLinear fed by one (directly or through data-movement ops such as a Transpose), so
    /// those values stay float. Weights (initializers) stay quantised.
    static func withoutActivationQuantization(_ graph: ModelGraph) -> ModelGraph {
        let movement: Set<String> = ["Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity"]
        var producer: [String: Node] = [:]
        for n in graph.nodes { for o in n.outputs { producer[o] = n } }
        let removed = Set(graph.nodes.filter { $0.opType == "QuantizeLinear" && graph.initializers[$0.inputs[0]] == nil }.map(\.outputs[0]))
        func fromRemovedQuantize(_ value: String) -> Bool {
            var v = value
            while let n = producer[v] {
                if removed.contains(v) { return true }
                guard movement.contains(n.opType) else { return false }
                v = n.inputs[0]
            }
            return false
        }
        var g = graph
        g.nodes = graph.nodes.map { n in
            let identity = Node(name: n.name, opType: "Identity", inputs: [n.inputs[0]], outputs: n.outputs)
            if n.opType == "QuantizeLinear" && removed.contains(n.outputs[0]) { return identity }
            if n.opType == "DequantizeLinear" && fromRemovedQuantize(n.inputs[0]) { return identity }
            return n
        }
        return g
    }

    private func accumulate(_ existing: Tensor?, _ g: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        guard let existing else { return g }
        guard existing.shape == g.shape else { throw ModelError("gradient shapes \(existing.shape) and \(g.shape) differ") }
        return try BinaryKernel<AddOp>(name: "gradient sum").run([existing, g], ctx)[0]
    }
}
