/// Spatial padding of an NCHW tensor (the last two axes), written by the op that makes the tensor
/// instead of by a Pad op of its own: style-transfer networks pad every instance norm's output for
/// the next convolution, and the Pad's pass over the whole tensor costs as much as the norm's.
struct SpatialPad: Equatable, Sendable {
    enum Mode: String, Sendable { case constant, reflect, edge }
    var top = 0, left = 0, bottom = 0, right = 0
    var mode = Mode.constant
    var value: Float = 0

    static let none = SpatialPad()

    /// The same limits the Pad op enforces (a reflection must stay inside the plane).
    func check(height: Int, width: Int) throws {
        guard mode == .reflect else { return }
        guard max(top, bottom) < height || height == 0, max(left, right) < width || width == 0 else {
            throw ModelError("Pad: reflect pad \(max(top, bottom, left, right)) must be smaller than the plane \(height)×\(width)")
        }
    }

    /// The source index inside 0..<n for padded index `i` (−pad..<n+pad), or nil for the constant.
    private func source(_ i: Int, _ n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch mode {
        case .constant: return nil
        case .edge: return min(max(i, 0), n - 1)
        case .reflect: return n == 1 ? 0 : (i < 0 ? -i : 2 * (n - 1) - i)
        }
    }

    /// A padded copy of an NCHW float tensor.
    func applied(to x: Tensor, _ ctx: ExecutionContext) throws -> Tensor {
        guard x.shape.count == 4 else { throw ModelError("Pad: expected NCHW, got \(x.shape)") }
        let (h, w) = (x.shape[2], x.shape[3])
        try check(height: h, width: w)
        let (oh, ow) = (h + top + bottom, w + left + right), planes = x.shape[0] * x.shape[1]
        let out = try ctx.tensor([x.shape[0], x.shape[1], oh, ow])
        let xp = try x.floatData(), op = out.buffer.pointer
        ctx.parallel(planes, minimumPerThread: max(1, 16_384 / max(1, oh * ow))) { r in
            for p in r {
                let plane = op + p * oh * ow
                for y in 0..<h { (plane + (y + top) * ow + left).update(from: xp + (p * h + y) * w, count: w) }
                fillBorders(plane, height: h, width: w)
            }
        }
        return out
    }

    /// Fills the borders of one padded plane (`height + top + bottom` rows of `width + left + right`)
    /// whose interior is already written: first the ends of the interior rows, then whole border rows
    /// copied from the rows they mirror.
    func fillBorders(_ plane: UnsafeMutablePointer<Float>, height h: Int, width w: Int) {
        let ow = w + left + right
        for y in top..<(top + h) {
            let row = plane + y * ow + left
            for k in stride(from: -left, to: 0, by: 1) { row[k] = source(k, w).map { row[$0] } ?? value }
            for k in w..<(w + right) { row[k] = source(k, w).map { row[$0] } ?? value }
        }
        for y in Array(-top..<0) + Array(h..<(h + bottom)) {
            let row = plane + (y + top) * ow
            if let from = source(y, h) {
                row.update(from: plane + (from + top) * ow, count: ow)
            } else {
                row.update(repeating: value, count: ow)
            }
        }
    }
}

extension Session {
    /// A residual Add that is the only user of a fused instance norm's output (without Relu) moves
    /// into the norm: the norm writes y + residual, saving a pass that writes y and one that reads it.
    func fuseResidualAdds(_ input: [Step], keep: Set<Int>) -> [Step] {
        var steps: [Step?] = input
        let users = Self.readers(input)
        for i in steps.indices {
            guard var norm = steps[i]?.kernel as? FusedInstanceNormKernel, !norm.relu, !norm.residual, norm.pad == nil,
                  let out = steps[i]?.outputs.first, !keep.contains(out), let consumers = users[out], consumers.count == 1,
                  let add = steps[consumers[0]], let addKernel = add.kernel as? BinaryKernel<AddOp>, addKernel.legacyAxis == nil,
                  add.inputs.count == 2, case let others = add.inputs.compactMap({ $0 }).filter({ $0 != out }), others.count == 1
            else { continue }
            norm.residual = true
            var inputs = steps[i]!.inputs
            inputs += Array(repeating: nil, count: max(0, 3 - inputs.count)) + [others[0]]
            // The fused step takes the Add's place: the residual is computed by then.
            steps[consumers[0]] = Step(node: Node(name: steps[i]!.node.name + "+add", opType: "InstanceNorm+Add (fused)",
                                                  inputs: [], outputs: add.node.outputs),
                                       kernel: norm, inputs: inputs, outputs: add.outputs)
            // The reader lists now name step i for x, γ, β; no later iteration asks about those values
            // (they are made before i), so the lists need no update.
            steps[i] = nil
            report.fusedResidualAdds += 1
        }
        return steps.compactMap { $0 }
    }

    /// A Pad of the last two axes that is the only user of a fused instance norm's output moves into
    /// the norm (its pads and value must be constants).
    func fusePadsIntoInstanceNorms(_ input: [Step], constants: [Int: Tensor], keep: Set<Int>) -> [Step] {
        var steps: [Step?] = input
        let users = Self.readers(input)
        for i in steps.indices {
            guard var norm = steps[i]?.kernel as? FusedInstanceNormKernel, norm.pad == nil,
                  let out = steps[i]?.outputs.first, !keep.contains(out), let consumers = users[out], consumers.count == 1,
                  let padStep = steps[consumers[0]], let padKernel = padStep.kernel as? PadKernel, padStep.inputs.first == out,
                  let spatial = Self.spatialPad(padKernel, padStep, constants) else { continue }
            norm.pad = spatial
            steps[i] = Step(node: Node(name: steps[i]!.node.name + "+pad", opType: steps[i]!.node.opType.replacingOccurrences(of: " (fused)", with: "+Pad (fused)"),
                                       inputs: [], outputs: padStep.node.outputs),
                            kernel: norm, inputs: steps[i]!.inputs, outputs: padStep.outputs)
            steps[consumers[0]] = nil
            report.fusedPads += 1
        }
        return steps.compactMap { $0 }
    }

    /// The Pad as spatial padding of a 4-D tensor: constant pads (and value), none on N and C, none negative.
    private static func spatialPad(_ kernel: PadKernel, _ step: Step, _ constants: [Int: Tensor]) -> SpatialPad? {
        guard let mode = SpatialPad.Mode(rawValue: kernel.mode) else { return nil }
        let inputs = step.inputs
        guard inputs.count < 4 || inputs[3] == nil else { return nil }     // opset 18 axes: left to the Pad op
        guard let pads = kernel.attrPads ?? (inputs.count > 1 ? inputs[1].flatMap { constants[$0] }?.ints : nil),
              pads.count == 8, pads.allSatisfy({ $0 >= 0 }), pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else { return nil }
        var value = kernel.attrValue
        if inputs.count > 2, let v = inputs[2] {
            guard let t = constants[v], t.elementType == .float, let first = t.floats.first else { return nil }
            value = first
        }
        return SpatialPad(top: pads[2], left: pads[3], bottom: pads[6], right: pads[7], mode: mode, value: value)
    }
}
