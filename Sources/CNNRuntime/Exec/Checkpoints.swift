import Foundation

/// Resume points for tiled inference that runs the same tiles many times (one measuring pass per
/// normalisation layer, see `SpatialStatistics`).
///
/// A checkpoint is a value through which, at that point of the run, everything still to come
/// depends on the image: the only image-derived value alive (e.g. a residual block's output).
/// A tile's run keeps its latest checkpoint; the next run of that tile starts there instead of
/// from the pixels, so the passes cost about one network run in total rather than one each.
public final class TileCheckpoints: @unchecked Sendable {
    /// The graph input that carries the image.
    public let imageInput: String
    /// Keep each tile's latest checkpoint while running (measuring passes); off for the last pass.
    public var capturing = true
    var tile = 0
    var points: [Int: Point] = [:]

    struct Point {
        let slot: Int
        let step: Int         // index of the step that produced it
        let reductions: Int   // statistics entries used before it
        let tensor: Tensor
    }

    /// Largest checkpoint kept, in floats (full-resolution feature maps would cost more memory than they save).
    public let maximumFloats: Int

    public init(imageInput: String, maximumFloats: Int = .max) {
        self.imageInput = imageInput
        self.maximumFloats = maximumFloats
    }

    /// Selects the tile the next run belongs to.
    public func start(tile: Int) { self.tile = tile }

    /// Bytes held by the checkpoints (for memory reports).
    public var bytes: Int { points.values.reduce(0) { $0 + $1.tensor.count * 4 } }
}

extension Session {
    /// For the image input: which steps depend on it, and the checkpoint slot produced at a step, if any.
    struct CheckpointPlan {
        var dependsOnImage: [Bool]
        var checkpointAt: [Int: Int]    // step index → slot
    }

    func checkpointPlan(for input: String) throws -> CheckpointPlan {
        guard let (_, imageSlot) = inputSlots.first(where: { $0.0.name == input }) else {
            throw ModelError("checkpoints: the model has no input '\(input)'")
        }
        var dependent: Set<Int> = [imageSlot]
        var lastUse: [Int: Int] = [:]
        for (i, step) in steps.enumerated() { for case let s? in step.inputs { lastUse[s] = i } }
        for (_, s) in outputSlots { lastUse[s] = Int.max }
        var plan = CheckpointPlan(dependsOnImage: [], checkpointAt: [:])
        var live: Set<Int> = [imageSlot]
        for (i, step) in steps.enumerated() {
            let depends = step.inputs.contains { $0.map(dependent.contains) ?? false }
            plan.dependsOnImage.append(depends)
            if depends {
                for o in step.outputs { dependent.insert(o); if (lastUse[o] ?? -1) > i { live.insert(o) } }
            }
            live = live.filter { (lastUse[$0] ?? -1) > i }
            if depends, live.count == 1, let only = live.first, step.outputs.contains(only) { plan.checkpointAt[i] = only }
        }
        return plan
    }
}
