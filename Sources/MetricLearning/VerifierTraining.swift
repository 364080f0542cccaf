import CNNRuntime
import Foundation

extension HeadTrainer {
    /// The verifier: logistic regression on |f(a) − f(b)| with a class-balanced cross-entropy (same
    /// and different pairs weigh half each, so P = 0.5 is the natural cut). Every epoch takes all
    /// same-person training pairs (at most 8192) and as many different-person pairs, drawn anew.
    static func trainVerifier(_ f: [Float], _ set: TrainingSet, _ split: TrainingSet.Split,
                              _ pairs: (same: [(Int, Int)], different: [(Int, Int)]), _ options: HeadTrainingOptions,
                              _ progress: (String) -> Void) throws -> (MetricHead.Verifier, HeadReport.Phase) {
        let d = MetricHead.dimension
        let session = try GradientSession(HeadGraphs.verifier(nil), outputs: [HeadGraphs.logit],
                                          parameters: [HeadGraphs.weightsName, HeadGraphs.biasName], threads: options.threads)
        var weights = session.parameters[HeadGraphs.weightsName]!.floats, bias = session.parameters[HeadGraphs.biasName]!.floats
        var adam = Adam(learningRate: options.binaryLearningRate)
        var random = SeededRandom(seed: options.seed &+ 2)
        var same: [(Int, Int)] = []
        let training = split.training
        for (x, i) in training.enumerated() { for j in training[(x + 1)...] where set.labels[i] == set.labels[j] { same.append((i, j)) } }
        if same.count > 8192 { same = Array(random.shuffled(same).prefix(8192)) }
        let byPerson = Dictionary(grouping: training, by: { set.labels[$0] })
        func verifier() -> MetricHead.Verifier { MetricHead.Verifier(weights: weights, bias: bias[0]) }
        func validationLoss() -> Double { balancedCrossEntropy(verifier(), f, pairs) }
        var stopping = EarlyStopping(verifier(), validationLoss: validationLoss(), patience: options.patience,
                                     learningRate: options.binaryLearningRate)
        for epoch in 1...max(1, options.maxEpochs) {
            var different: [(Int, Int)] = []
            while different.count < same.count {
                let i = training[Int(random.next() % UInt64(training.count))], j = training[Int(random.next() % UInt64(training.count))]
                if set.labels[i] != set.labels[j] { different.append((i, j)) }
                if byPerson.count < 2 { break }
            }
            let batch = same + different, n = batch.count
            var a = [Float](), b = [Float]()
            a.reserveCapacity(n * d); b.reserveCapacity(n * d)
            for (i, j) in batch { a += f[i * d ..< (i + 1) * d]; b += f[j * d ..< (j + 1) * d] }
            let tape = try session.forward([HeadGraphs.left: Tensor(shape: [n, d], floats: a),
                                            HeadGraphs.right: Tensor(shape: [n, d], floats: b)])
            let logits = tape.outputs[HeadGraphs.logit]!.floats
            // L = ½ mean_same CE + ½ mean_different CE; ∂CE/∂z = σ(z) − y.
            var seed = [Float](repeating: 0, count: n), loss = 0.0
            for k in 0..<n {
                let y: Float = k < same.count ? 1 : 0, weight = 0.5 / Float(k < same.count ? same.count : different.count)
                let z = logits[k]
                seed[k] = weight * (1 / (1 + expf(-z)) - y)
                loss += Double(weight) * crossEntropy(logit: z, same: y == 1)
            }
            let grads = try session.backward(tape, seeds: [HeadGraphs.logit: Tensor(shape: [n, 1], floats: seed)],
                                             wrt: [HeadGraphs.weightsName, HeadGraphs.biasName])
            adam.step(HeadGraphs.weightsName, &weights, gradient: grads[HeadGraphs.weightsName]!.floats)
            adam.step(HeadGraphs.biasName, &bias, gradient: grads[HeadGraphs.biasName]!.floats)
            try session.setParameter(HeadGraphs.weightsName, Tensor(shape: [d, 1], floats: weights))
            try session.setParameter(HeadGraphs.biasName, Tensor(shape: [1], floats: bias))
            let validation = validationLoss()
            if epoch == 1 || epoch % 25 == 0 {
                progress(String(format: "binary epoch %d: training loss %.5f (%d pairs), validation loss %.5f", epoch, loss, n, validation))
            }
            if !stopping.record(epoch: epoch, validation: validation, training: loss, model: verifier) { break }
        }
        return (stopping.best, stopping.phase)
    }

    /// −log P(label) for a logit, computed stably: softplus(z) − y·z.
    static func crossEntropy(logit z: Float, same: Bool) -> Double {
        let softplus = Double(max(z, 0)) + log1p(exp(-Double(abs(z))))
        return softplus - (same ? Double(z) : 0)
    }

    /// ½ mean CE over same pairs + ½ over different pairs (rows of f in the head's space).
    static func balancedCrossEntropy(_ v: MetricHead.Verifier, _ f: [Float], _ pairs: (same: [(Int, Int)], different: [(Int, Int)])) -> Double {
        let d = MetricHead.dimension
        func mean(_ list: [(Int, Int)], same: Bool) -> Double {
            guard !list.isEmpty else { return 0 }
            var total = 0.0
            for (i, j) in list {
                var z = v.bias
                for k in 0..<d { z += v.weights[k] * abs(f[i * d + k] - f[j * d + k]) }
                total += crossEntropy(logit: z, same: same)
            }
            return total / Double(list.count)
        }
        return 0.5 * mean(pairs.same, same: true) + 0.5 * mean(pairs.different, same: false)
    }
}

extension MetricHead {
    /// 1 − P(same) of each pair of rows of `f` (already in the head's space): a dissimilarity like a distance.
    func dissimilarities(_ f: [Float], _ pairs: (same: [(Int, Int)], different: [(Int, Int)])) -> (same: [Float], different: [Float]) {
        let d = Self.dimension
        func score(_ p: (Int, Int)) -> Float {
            1 - (probability(Array(f[p.0 * d ..< (p.0 + 1) * d]), Array(f[p.1 * d ..< (p.1 + 1) * d])) ?? 0)
        }
        return (pairs.same.map(score), pairs.different.map(score))
    }
}
