import Foundation

/// A model prepared to run: kernels created (unsupported ops fail here), constant subgraphs
/// folded, dead nodes removed, Q→DQ pairs and Conv→Relu/Clip fused, and a release plan so each
/// intermediate tensor is returned to the buffer pool right after its last use.
public final class Session: @unchecked Sendable {
    struct Step {
        let node: Node
        let kernel: Kernel
        let inputs: [Int?]        // value slots; nil = omitted optional input
        let outputs: [Int]
        var release: [Int] = []   // slots whose last use is this step
    }

    public let graph: ModelGraph
    public let threads: Int
    /// The precision asked for and the one convolutions run in (bf16 falls back to fp32 with a note).
    public let precisionChoice: PrecisionChoice
    public var precision: Precision { precisionChoice.effective }
    /// A line for the user when the requested precision could not be used, else nil.
    public var precisionNote: String? { precisionChoice.note }
    private(set) var steps: [Step] = []
    private(set) var slots: [String: Int] = [:]
    private var constants: [Int: Tensor] = [:]
    private(set) var inputSlots: [(ValueInfo, Int)] = []
    private(set) var outputSlots: [(String, Int)] = []
    private var checkpointPlans: [String: CheckpointPlan] = [:]
    let pool = BufferPool()
    private let lock = NSLock()
    /// What preparation did, for `model inspect`.
    public internal(set) var report = PreparationReport()

    public struct PreparationReport: Sendable {
        public var folded = 0
        public var removed = 0
        public var fusedActivations = 0
        public var fusedQDQ = 0
        public var fusedInstanceNorms = 0
        public var fusedQuantizedConvolutions = 0
        public var fusedPads = 0
        public var fusedResidualAdds = 0
        /// Elementwise steps run as chains (ElementwiseChainKernel), counted per step.
        public var fusedElementwiseOps = 0
        /// Pads and nearest Resizes moved after the QuantizeLinear that read them (to copy 8-bit values).
        public var quantizedBeforeCopies = 0
    }

    /// Accept inputs whose size differs from the declared one (fully convolutional models declared
    /// at one size, such as the Magenta transformer at 384×384). Rank and element type are still checked.
    public var acceptsAnyInputSize = false

    public convenience init(_ graph: ModelGraph, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                            precision: Precision = .fp32) throws {
        try self.init(graph, threads: threads, precision: precision, fusingAcrossOps: true)
    }

    /// `fusingAcrossOps: false` keeps residual Adds and Pads out of the instance norms (gradient sessions:
    /// the fused kernel's backward covers the norm alone).
    init(_ graph: ModelGraph, threads: Int, precision: Precision, fusingAcrossOps: Bool) throws {
        self.graph = graph
        self.threads = max(1, threads)
        _ = HeapReuse.configured
        precisionChoice = PrecisionChoice.resolve(precision)
        try prepare(fusingAcrossOps: fusingAcrossOps)
    }

    public convenience init(path: String, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                            precision: Precision = .fp32) throws {
        try self.init(try ONNXImporter.load(path: path), threads: threads, precision: precision)
    }

    private func slot(_ name: String) -> Int {
        if let s = slots[name] { return s }
        slots[name] = slots.count
        return slots.count - 1
    }

    /// A new value for a rewrite, named after `base` but never one of the model's own names.
    func newSlot(_ base: String) -> Int {
        var name = base
        while slots[name] != nil { name += "'" }
        return slot(name)
    }

    // MARK: preparation

    private func prepare(fusingAcrossOps: Bool) throws {
        for (name, t) in graph.initializers { constants[slot(name)] = t }
        inputSlots = graph.inputs.map { ($0, slot($0.name)) }
        let ctx = ExecutionContext(pool: pool, threads: threads)
        var live: [Step] = []
        // Values available so far (graph inputs and every live step's outputs): one lookup per input.
        var available = Set(inputSlots.map(\.1))
        for node in graph.nodes {
            let kernel = try OpRegistry.kernel(for: node, opset: graph.opsetVersion)
            let ins = node.inputs.map { $0.isEmpty ? nil : slot($0) }
            let outs = node.outputs.map { slot($0) }
            for (i, s) in ins.enumerated() {
                if let s, constants[s] == nil, !available.contains(s) {
                    throw ModelError("node '\(node.name)' (\(node.opType)): input '\(node.inputs[i])' is produced by no node")
                }
            }
            // Constant folding: every input known now.
            if ins.allSatisfy({ $0 == nil || constants[$0!] != nil }) {
                let results: [Tensor]
                do { results = try kernel.run(ins.map { $0.flatMap { constants[$0] } }, ctx) } catch {
                    throw ModelError("node '\(node.name)' (\(node.opType)): \(error)")
                }
                for (s, t) in zip(outs, results) { constants[s] = t.detached() }
                report.folded += 1
                continue
            }
            live.append(Step(node: node, kernel: kernel, inputs: ins, outputs: outs))
            available.formUnion(outs)
        }
        outputSlots = try graph.outputs.map { o in
            guard let s = slots[o.name] else { throw ModelError("output '\(o.name)' is produced by no node") }
            return (o.name, s)
        }
        live = fuseInstanceNorm(live, constants: constants, keep: Set(outputSlots.map(\.1)))
        if fusingAcrossOps {
            live = fuseResidualAdds(live, keep: Set(outputSlots.map(\.1)))
            live = fusePadsIntoInstanceNorms(live, constants: constants, keep: Set(outputSlots.map(\.1)))
        }
        live = fuseQuantizedConvolutions(live, constants: constants, keep: Set(outputSlots.map(\.1)))
        if fusingAcrossOps { live = quantizeBeforeCopies(live, constants: constants, keep: Set(outputSlots.map(\.1))) }
        live = fuse(live)
        if fusingAcrossOps { live = fuseElementwiseChains(live, constants: constants, keep: Set(outputSlots.map(\.1))) }
        steps = chainChannelsLast(removeDeadSteps(live).map(applyingPrecision), keep: Set(outputSlots.map(\.1)))
        planReleases()
    }

    /// Convolutions take the session's precision (after constant folding, which stays fp32).
    private func applyingPrecision(_ step: Step) -> Step {
        guard precision != .fp32, var conv = step.kernel as? ConvKernel else { return step }
        conv.precision = precision
        return Step(node: step.node, kernel: conv, inputs: step.inputs, outputs: step.outputs, release: step.release)
    }

    /// For each value, the indices of the steps that read it (the fusion passes' consumer index).
    static func readers(_ steps: [Step]) -> [Int: [Int]] {
        var readers: [Int: [Int]] = [:]
        for (i, s) in steps.enumerated() { for case let v? in s.inputs { readers[v, default: []].append(i) } }
        return readers
    }

    /// For each value, the index of the step that makes it.
    static func producers(_ steps: [Step]) -> [Int: Int] {
        var producers: [Int: Int] = [:]
        for (i, s) in steps.enumerated() { for v in s.outputs { producers[v] = i } }
        return producers
    }

    /// Q→DQ on activations becomes one FakeQuant; Conv followed only by Relu/Clip takes it as its activation.
    /// One pass with a consumer index; fused-away steps become nil and are dropped at the end (linear time).
    private func fuse(_ input: [Step]) -> [Step] {
        var steps: [Step?] = input
        var consumers = Self.readers(input)
        func users(_ s: Int) -> [Int] { (consumers[s] ?? []).filter { steps[$0] != nil } }
        let outputs = Set(outputSlots.map(\.1))
        var i = 0
        while i < steps.count {
            guard let step = steps[i], step.outputs.count == 1, !outputs.contains(step.outputs[0]) else { i += 1; continue }
            let users = users(step.outputs[0])
            // Q followed only by DQs with the same parameters: one rounding op; the other DQs alias its result.
            if step.kernel is QuantizeKernel, !users.isEmpty,
               users.allSatisfy({ steps[$0]!.kernel is DequantizeKernel && steps[$0]!.inputs.first == step.outputs[0] }),
               let fq = fakeQuant(step, steps[users[0]]!),
               users.allSatisfy({ fakeQuant(step, steps[$0]!) != nil }) {
                let first = steps[users[0]]!
                steps[users[0]] = Step(node: first.node, kernel: fq, inputs: [step.inputs[0]], outputs: first.outputs)
                if let x = step.inputs[0] { consumers[x, default: []].append(users[0]) }
                for j in users.dropFirst() {
                    steps[j] = Step(node: steps[j]!.node, kernel: IdentityKernel(), inputs: [first.outputs[0]], outputs: steps[j]!.outputs)
                    consumers[first.outputs[0], default: []].append(j)
                }
                steps[i] = nil
                report.fusedQDQ += users.count
                i += 1
                continue
            }
            guard users.count == 1, let j = users.first, let next = steps[j] else { i += 1; continue }
            if var conv = step.kernel as? ConvKernel, case .none = conv.activation,
               next.inputs.first == step.outputs[0] {
                var act: Activation?
                if next.kernel is UnaryKernel<ReluOp> { act = .relu }
                if let k = next.kernel as? ClipKernel {
                    let lo = next.inputs.count > 1 ? next.inputs[1].flatMap { constants[$0]?.floats.first } : k.attributeMin
                    let hi = next.inputs.count > 2 ? next.inputs[2].flatMap { constants[$0]?.floats.first } : k.attributeMax
                    let loKnown = next.inputs.count < 2 || next.inputs[1] == nil || lo != nil
                    let hiKnown = next.inputs.count < 3 || next.inputs[2] == nil || hi != nil
                    if loKnown && hiKnown { act = .clip(lo ?? k.attributeMin, hi ?? k.attributeMax) }
                }
                if let act {
                    conv.activation = act
                    // The fused step runs where the activation ran: its other consumers come after it.
                    steps[j] = Step(node: step.node, kernel: conv, inputs: step.inputs, outputs: next.outputs)
                    for case let s? in step.inputs { consumers[s, default: []].append(j) }
                    steps[i] = nil
                    report.fusedActivations += 1
                }
            }
            i += 1
        }
        return steps.compactMap { $0 }
    }

    private func fakeQuant(_ q: Step, _ dq: Step) -> Kernel? {
        func scalar(_ s: Int??) -> Tensor? { s.flatMap { $0 }.flatMap { constants[$0] } }
        guard q.inputs.count >= 2, dq.inputs.count >= 2, let qs = scalar(q.inputs[1]), let ds = scalar(dq.inputs[1]),
              qs.count == 1, ds.count == 1, qs.floats == ds.floats else { return nil }
        let qz = q.inputs.count > 2 ? scalar(q.inputs[2]) : nil, dz = dq.inputs.count > 2 ? scalar(dq.inputs[2]) : nil
        guard (qz?.count ?? 1) == 1, qz?.int64s == dz?.int64s else { return nil }
        let signed = qz?.elementType == .int8
        return FakeQuantKernel(scale: qs.floats[0], zeroPoint: Float(qz?.int64s.first ?? 0),
                               lo: signed ? -128 : 0, hi: signed ? 127 : 255)
    }

    private func removeDeadSteps(_ input: [Step]) -> [Step] {
        var needed = Set(outputSlots.map(\.1))
        var kept: [Step] = []
        for step in input.reversed() where step.outputs.contains(where: needed.contains) {
            kept.append(step)
            for s in step.inputs { if let s { needed.insert(s) } }
        }
        report.removed = input.count - kept.count
        return kept.reversed()
    }

    private func planReleases() {
        var lastUse: [Int: Int] = [:]
        for (i, step) in steps.enumerated() { for s in step.inputs { if let s { lastUse[s] = i } } }
        let keep = Set(outputSlots.map(\.1))
        for (s, i) in lastUse where !keep.contains(s) && constants[s] == nil { steps[i].release.append(s) }
    }

    // MARK: running

    public var inputs: [ValueInfo] { graph.inputs }
    public var outputNames: [String] { outputSlots.map(\.0) }

    /// Runs the model. Inputs by name; returns every graph output by name.
    /// Milliseconds spent per op type, filled when a profile is passed to `run`.
    public final class Profile: @unchecked Sendable {
        public var milliseconds: [String: Double] = [:]
        public var calls: [String: Int] = [:]
        /// Time each node separately instead of each op type.
        public var byNode = false
        public init(byNode: Bool = false) { self.byNode = byNode }
    }

    /// `statistics` records or replays the spatial reductions (instance norm, global pooling,
    /// ReduceMean/Sum over H and W) for tiled inference; see `SpatialStatistics`.
    public func run(_ feeds: [String: Tensor], context: ExecutionContext? = nil, profile: Profile? = nil,
                    statistics: SpatialStatistics? = nil) throws -> [String: Tensor] {
        let values = try execute(feeds, context: context, profile: profile, statistics: statistics, keepAll: false)
        var result: [String: Tensor] = [:]
        for (name, s) in outputSlots {
            guard let t = values[s] else { throw ModelError("output '\(name)' was not computed") }
            result[name] = t
        }
        return result
    }

    /// Every value by slot after a run; `keepAll` keeps the intermediate ones too (the tape of
    /// reverse-mode differentiation) instead of releasing each after its last use.
    func execute(_ feeds: [String: Tensor], context: ExecutionContext? = nil, profile: Profile? = nil,
                 statistics: SpatialStatistics? = nil, keepAll: Bool) throws -> [Tensor?] {
        let ctx = context ?? ExecutionContext(pool: pool, threads: threads)
        let run = ctx.pool.beginRun()
        defer { ctx.pool.endRun(run) }
        if let statistics { ctx.statistics = statistics }
        var values = [Tensor?](repeating: nil, count: slots.count)
        for (s, t) in constants { values[s] = t }
        for (info, s) in inputSlots {
            guard let t = feeds[info.name] else { throw ModelError("missing input '\(info.name)'") }
            if let want = info.elementType, want != t.elementType {
                throw ModelError("input '\(info.name)' must be \(want), got \(t.elementType)")
            }
            if let shape = info.shape {
                guard shape.count == t.shape.count, acceptsAnyInputSize || zip(shape, t.shape).allSatisfy({ $0 == nil || $0 == $1 }) else {
                    throw ModelError("input '\(info.name)' must have shape \(info.shapeDescription), got \(t.shape)")
                }
            }
            values[s] = t
        }
        // Tiles run again resume from their latest checkpoint (image-derived steps before it are skipped).
        let checkpoints = statistics?.checkpoints
        var plan: CheckpointPlan?
        var resumeAfter = -1
        if let checkpoints {
            plan = try lock.withLock {
                if let p = checkpointPlans[checkpoints.imageInput] { return p }
                let p = try checkpointPlan(for: checkpoints.imageInput)
                checkpointPlans[checkpoints.imageInput] = p
                return p
            }
            if let point = checkpoints.points[checkpoints.tile] {
                values[point.slot] = point.tensor
                resumeAfter = point.step
                statistics?.skip(to: point.reductions)
            }
        }
        for (index, step) in steps.enumerated() {
            if index <= resumeAfter, plan?.dependsOnImage[index] == true { continue }
            let ins = step.inputs.map { $0.flatMap { values[$0] } }
            let outs: [Tensor]
            let start = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            defer {
                if let profile {
                    let key = step.kernel is FakeQuantKernel ? "QDQ (fused)"
                        : step.kernel is ElementwiseChainKernel && !profile.byNode ? "Elementwise (fused)"
                        : profile.byNode ? step.node.name : step.kernel is QuantizedConvKernel ? "Conv (int8)" : step.node.opType
                    profile.milliseconds[key, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                    profile.calls[key, default: 0] += 1
                }
            }
            do { outs = try step.kernel.run(ins, ctx) } catch let stop as StatisticsMeasured { throw stop } catch {
                throw ModelError("node '\(step.node.name)' (\(step.node.opType)): \(error)")
            }
            for (s, t) in zip(step.outputs, outs) { values[s] = t }
            if let checkpoints, checkpoints.capturing, let slot = plan?.checkpointAt[index], let t = values[slot],
               t.count <= checkpoints.maximumFloats {
                checkpoints.points[checkpoints.tile] = .init(slot: slot, step: index, reductions: statistics?.position ?? 0,
                                                             tensor: t.detached())
            }
            if !keepAll { for s in step.release { values[s] = nil } }
        }
        return values
    }

    /// The nodes that run per inference (after folding and fusion), for inspection.
    public var plannedNodes: [Node] { steps.map(\.node) }
}

extension Tensor {
    /// The same values in a buffer that belongs to no pool (for constants kept for the session's life).
    func detached() -> Tensor {
        guard case .float(let b) = storage, b.pool != nil else { return self }
        let copy = FloatBuffer(count: count)
        copy.pointer.update(from: b.pointer, count: count)
        return Tensor(shape: shape, storage: .float(copy))
    }
}
