import CNNRuntime
import Foundation

public struct HeadTrainingOptions: Sendable {
    public var method: MetricHead.Method = .both
    /// Batch-hard: on synthetic sets it beat semi-hard at every learning rate and margin tried.
    public var selection: TripletSelection = .hard
    /// α of the triplet loss, on squared distances of unit vectors (0…4); 0.5 beat 0.2.
    public var margin: Float = 0.5
    public var tripletLearningRate: Float = 1e-2
    public var binaryLearningRate: Float = 0.05
    public var maxEpochs = 300
    /// Epochs without a better validation loss before stopping.
    public var patience = 25
    /// Part of each person's photos held out for validation.
    public var validationFraction = 0.25
    /// Rows per triplet batch (whole people, shuffled each epoch).
    public var batchRows = 512
    public var seed: UInt64 = 1
    public var threads = 2
    public init() {}
}

/// Trains a `MetricHead` on a gallery's embeddings with CNNRuntime's `GradientSession` and `Adam`:
/// the triplet head first (method triplet or both), then the verifier on top of it (binary or both).
public enum HeadTrainer {
    public static func train(_ set: TrainingSet, options: HeadTrainingOptions,
                             progress: (String) -> Void = { _ in }) throws -> MetricHead {
        let start = Date()
        let split = set.split(fraction: options.validationFraction, seed: options.seed)
        let trainingPeople = Set(split.training.map { set.labels[$0] })
        let heldPeople = Set(split.validation.map { set.labels[$0] })
        guard trainingPeople.count >= 2, heldPeople.count >= 2 else {
            throw MetricLearningError("gallery train needs at least 2 people with 3 or more photos each (this gallery has \(heldPeople.count)); "
                + "enrol more photos per person")
        }
        let pairs = set.validationPairs(split, seed: options.seed)
        var transform: [Float]?
        var tripletPhase: HeadReport.Phase?, binaryPhase: HeadReport.Phase?
        if options.method != .binary {
            (transform, tripletPhase) = try trainTriplet(set, split, options, progress)
        }
        let f = MetricHead.apply(transform, to: set.vectors, rows: set.count)
        var verifier: MetricHead.Verifier?
        if options.method != .triplet {
            (verifier, binaryPhase) = try trainVerifier(f, set, split, pairs, options, progress)
        }
        let before = distances(set.vectors, pairs)
        let after = distances(f, pairs)
        let threshold = Verification.bestThreshold(same: after.same, different: after.different)
        var head = MetricHead(method: options.method, transform: transform, threshold: max(threshold, 1e-6), verifier: verifier,
                              report: HeadReport(method: options.method, selection: options.selection, margin: options.margin,
                                                 seed: options.seed, people: trainingPeople.count, skippedPeople: split.skippedPeople,
                                                 trainingEmbeddings: split.training.count, validationEmbeddings: split.validation.count,
                                                 triplet: tripletPhase, binary: binaryPhase,
                                                 before: Verification.summary(same: before.same, different: before.different, threshold: 0.6),
                                                 afterTriplet: nil, afterBinary: nil, seconds: 0))
        if transform != nil {
            head.report.afterTriplet = Verification.summary(same: after.same, different: after.different, threshold: head.threshold)
        }
        if verifier != nil {
            let scores = head.dissimilarities(f, pairs)
            head.report.afterBinary = Verification.summary(same: scores.same, different: scores.different,
                                                           threshold: 1 - MetricHead.probabilityThreshold)
        }
        head.report.seconds = Date().timeIntervalSince(start)
        try head.validate()
        return head
    }

    /// Euclidean distances of the pairs' rows of `matrix`.
    static func distances(_ matrix: [Float], _ pairs: (same: [(Int, Int)], different: [(Int, Int)])) -> (same: [Float], different: [Float]) {
        let d = MetricHead.dimension
        return matrix.withUnsafeBufferPointer { m in
            func distance(_ p: (Int, Int)) -> Float {
                let a = m.baseAddress! + p.0 * d, b = m.baseAddress! + p.1 * d
                var sum: Float = 0
                for i in 0..<d { let t = a[i] - b[i]; sum += t * t }
                return sum.squareRoot()
            }
            return (pairs.same.map(distance), pairs.different.map(distance))
        }
    }

    // MARK: triplet head

    static func trainTriplet(_ set: TrainingSet, _ split: TrainingSet.Split, _ options: HeadTrainingOptions,
                             _ progress: (String) -> Void) throws -> ([Float], HeadReport.Phase) {
        let d = MetricHead.dimension
        let session = try GradientSession(HeadGraphs.triplet(transform: nil), outputs: [HeadGraphs.normalised],
                                          parameters: [HeadGraphs.transformName], threads: options.threads)
        var w = session.parameters[HeadGraphs.transformName]!.floats
        var adam = Adam(learningRate: options.tripletLearningRate)
        var random = SeededRandom(seed: options.seed &+ 1)
        var stopping = EarlyStopping(w, validationLoss: validationTripletLoss(w, set, split, options.margin),
                                     patience: options.patience, learningRate: options.tripletLearningRate)
        for epoch in 1...max(1, options.maxEpochs) {
            var lossSum = 0.0, tripletCount = 0
            for batch in batches(split.training, set.labels, rows: options.batchRows, &random) {
                let x = set.rows(batch), labels = batch.map { set.labels[$0] }
                let tape = try session.forward([HeadGraphs.input: Tensor(shape: [batch.count, d], floats: x)])
                let f = tape.outputs[HeadGraphs.normalised]!.floats
                let triplets = TripletLoss.select(squaredDistances: TripletLoss.squaredDistances(f, rows: batch.count),
                                                  labels: labels, margin: options.margin, selection: options.selection)
                let (loss, active, gradient) = TripletLoss.lossAndGradient(f, rows: batch.count, triplets: triplets, margin: options.margin)
                lossSum += loss; tripletCount += triplets.count
                guard active > 0 else { continue }
                // J is the mean over the batch's triplets: the seed is ∂J/∂F.
                let k = 1 / Float(triplets.count)
                let seed = Tensor(shape: [batch.count, d], floats: gradient.map { $0 * k })
                let grads = try session.backward(tape, seeds: [HeadGraphs.normalised: seed], wrt: [HeadGraphs.transformName])
                adam.step(HeadGraphs.transformName, &w, gradient: grads[HeadGraphs.transformName]!.floats)
                try session.setParameter(HeadGraphs.transformName, Tensor(shape: [d, d], floats: w))
            }
            let validation = validationTripletLoss(w, set, split, options.margin)
            let trainingLoss = tripletCount > 0 ? lossSum / Double(tripletCount) : 0
            if epoch == 1 || epoch % 10 == 0 {
                progress(String(format: "triplet epoch %d: training loss %.5f (%d triplets), validation loss %.5f",
                                epoch, trainingLoss, tripletCount, validation))
            }
            if !stopping.record(epoch: epoch, validation: validation, training: trainingLoss, model: { w }) { break }
        }
        return (stopping.best, stopping.phase)
    }

    /// Whole people per batch (shuffled), about `rows` rows each; a person's rows are capped at a
    /// quarter of a batch (a random subset each epoch). A last batch of a single person joins the one before.
    static func batches(_ rows: [Int], _ labels: [Int], rows limit: Int, _ random: inout SeededRandom) -> [[Int]] {
        let byPerson = Dictionary(grouping: rows, by: { labels[$0] })
        let cap = max(2, limit / 4)
        var result: [[Int]] = [], current: [Int] = [], peopleInCurrent = 0
        for person in random.shuffled(byPerson.keys.sorted()) {
            var r = byPerson[person]!
            if r.count > cap { r = Array(random.shuffled(r).prefix(cap)) }
            current += r; peopleInCurrent += 1
            if current.count >= limit { result.append(current); current = []; peopleInCurrent = 0 }
        }
        if !current.isEmpty {
            if peopleInCurrent == 1, !result.isEmpty { result[result.count - 1] += current } else { result.append(current) }
        }
        return result
    }

    /// Mean over held-out anchors of the hinge with each of their positives and their closest
    /// negative (among all used rows), in the space of `w`.
    static func validationTripletLoss(_ w: [Float], _ set: TrainingSet, _ split: TrainingSet.Split, _ margin: Float) -> Double {
        let used = split.training + split.validation
        let anchors = MetricHead.apply(w, to: set.rows(split.validation), rows: split.validation.count)
        let others = MetricHead.apply(w, to: set.rows(used), rows: used.count)
        let d2 = TripletLoss.crossSquaredDistances(anchors, rows: split.validation.count, others, rows: used.count)
        var total = 0.0, count = 0
        for (a, v) in split.validation.enumerated() {
            var positives: [Float] = [], closestNegative = Float.infinity
            for (o, u) in used.enumerated() where u != v {
                let x = d2[a * used.count + o]
                if set.labels[u] == set.labels[v] { positives.append(x) } else { closestNegative = min(closestNegative, x) }
            }
            guard !positives.isEmpty, closestNegative.isFinite else { continue }
            total += positives.reduce(0.0) { $0 + Double(max($1 - closestNegative + margin, 0)) } / Double(positives.count)
            count += 1
        }
        return count > 0 ? total / Double(count) : 0
    }
}
