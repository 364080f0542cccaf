import Foundation

/// What `gallery train` did, stored with the head (and exported with it).
public struct HeadReport: Sendable, Equatable, Codable {
    /// One training phase (the triplet head or the verifier).
    public struct Phase: Sendable, Equatable, Codable {
        public var epochs: Int
        public var bestEpoch: Int
        public var stoppedEarly: Bool
        public var learningRate: Float
        public var initialValidationLoss: Double
        public var bestValidationLoss: Double
        public var trainingLossAtBest: Double
        public var seconds: Double

        enum CodingKeys: String, CodingKey {
            case epochs, seconds
            case bestEpoch = "best_epoch", stoppedEarly = "stopped_early", learningRate = "learning_rate"
            case initialValidationLoss = "initial_validation_loss", bestValidationLoss = "best_validation_loss"
            case trainingLossAtBest = "training_loss_at_best"
        }
    }

    public var method: MetricHead.Method
    public var selection: TripletSelection
    public var margin: Float
    public var seed: UInt64
    public var people: Int
    /// People with a single photo: no same-person pair, left out.
    public var skippedPeople: [String]
    public var trainingEmbeddings: Int
    public var validationEmbeddings: Int
    public var triplet: Phase?
    public var binary: Phase?
    /// Held-out pairs with the plain distance at dlib's 0.6.
    public var before: VerificationSummary
    /// Held-out pairs with the head's distance at its threshold (triplet, both).
    public var afterTriplet: VerificationSummary?
    /// Held-out pairs with the verifier (score 1 − P(same), same at P ≥ 0.5).
    public var afterBinary: VerificationSummary?
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case method, selection, margin, seed, people, triplet, binary, before, seconds
        case skippedPeople = "skipped_people", trainingEmbeddings = "training_embeddings"
        case validationEmbeddings = "validation_embeddings", afterTriplet = "after_triplet", afterBinary = "after_binary"
    }

    /// Human-readable lines (gallery train, gallery head).
    public var lines: [String] {
        var out = ["method \(method.rawValue): \(people) people, \(trainingEmbeddings) training and \(validationEmbeddings) held-out embeddings"
                   + (skippedPeople.isEmpty ? "" : "; skipped (one photo): \(skippedPeople.joined(separator: ", "))")]
        func phase(_ name: String, _ p: Phase) -> String {
            String(format: "%@: %d epochs (best %d%@), learning rate %g, validation loss %.4f -> %.4f, %.1f s",
                   name, p.epochs, p.bestEpoch, p.stoppedEarly ? ", stopped early" : "", p.learningRate,
                   p.initialValidationLoss, p.bestValidationLoss, p.seconds)
        }
        if let t = triplet { out.append(phase("triplet (\(selection.rawValue), margin \(margin))", t)) }
        if let b = binary { out.append(phase("binary", b)) }
        out.append("held-out before (plain distance):  " + before.line)
        if let a = afterTriplet { out.append("held-out after (head distance):     " + a.line) }
        if let a = afterBinary { out.append("held-out after (verifier, P>=0.5): " + a.line) }
        return out
    }
}
