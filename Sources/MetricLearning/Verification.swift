import Foundation

/// How well a score separates same-person pairs from different-person pairs. Scores are
/// dissimilarities (a distance, or 1 − P(same)): a pair is "same" when its score is ≤ the threshold.
public struct VerificationSummary: Sendable, Equatable, Codable {
    public var samePairs: Int
    public var differentPairs: Int
    /// The threshold the accuracy is measured at.
    public var threshold: Float
    /// Fraction of all pairs decided right at `threshold`.
    public var accuracy: Double
    /// Different-person pairs accepted, same-person pairs rejected at `threshold`.
    public var falseAcceptRate: Double
    public var falseRejectRate: Double
    /// Equal-error rate: where the false accept and false reject rates meet (any threshold).
    public var equalErrorRate: Double
    /// Area under the ROC curve: the chance a random same pair scores below a random different pair.
    public var areaUnderROC: Double

    enum CodingKeys: String, CodingKey {
        case samePairs = "same_pairs", differentPairs = "different_pairs", threshold, accuracy
        case falseAcceptRate = "false_accept_rate", falseRejectRate = "false_reject_rate"
        case equalErrorRate = "equal_error_rate", areaUnderROC = "auc"
    }

    public var line: String {
        String(format: "accuracy %.4f (false accept %.4f, false reject %.4f at %.4f), EER %.4f, AUC %.4f; %d same / %d different pairs",
               accuracy, falseAcceptRate, falseRejectRate, threshold, equalErrorRate, areaUnderROC, samePairs, differentPairs)
    }
}

public enum Verification {
    /// The summary at `threshold` (nil: the threshold with the fewest false accepts + false rejects).
    public static func summary(same: [Float], different: [Float], threshold: Float? = nil) -> VerificationSummary {
        let t = threshold ?? bestThreshold(same: same, different: different)
        let fr = same.isEmpty ? 0 : Double(same.filter { $0 > t }.count) / Double(same.count)
        let fa = different.isEmpty ? 0 : Double(different.filter { $0 <= t }.count) / Double(different.count)
        let wrong = Double(same.filter { $0 > t }.count + different.filter { $0 <= t }.count)
        let total = Double(max(1, same.count + different.count))
        return VerificationSummary(samePairs: same.count, differentPairs: different.count, threshold: t,
                                   accuracy: 1 - wrong / total, falseAcceptRate: fa, falseRejectRate: fr,
                                   equalErrorRate: equalErrorRate(same: same, different: different),
                                   areaUnderROC: areaUnderROC(same: same, different: different))
    }

    /// The threshold (midway between two neighbouring scores) with the lowest false accept + false
    /// reject rate; among equally good ones, the middle of the best run (the widest safety margin).
    public static func bestThreshold(same: [Float], different: [Float]) -> Float {
        let scores = (same.map { ($0, true) } + different.map { ($0, false) }).sorted { $0.0 < $1.0 }
        guard let first = scores.first else { return 0 }
        var fr = 1.0, fa = 0.0         // threshold below every score: all same pairs rejected
        var best = (error: fr + fa, candidates: [first.0 - 1e-3])
        var i = 0
        while i < scores.count {
            let value = scores[i].0
            while i < scores.count && scores[i].0 == value {
                if scores[i].1 { fr -= 1 / Double(same.count) } else { fa += 1 / Double(different.count) }
                i += 1
            }
            let t = i < scores.count ? (value + scores[i].0) / 2 : value + 1e-3
            let error = fr + fa
            if error < best.error - 1e-12 { best = (error, [t]) } else if abs(error - best.error) <= 1e-12 { best.candidates.append(t) }
        }
        return best.candidates[best.candidates.count / 2]
    }

    /// The equal-error rate, interpolated between the two thresholds where the rates cross.
    public static func equalErrorRate(same: [Float], different: [Float]) -> Double {
        guard !same.isEmpty, !different.isEmpty else { return 0 }
        // One sweep over the sorted scores: after each run of equal scores, the rates at that threshold.
        let scores = (same.map { ($0, true) } + different.map { ($0, false) }).sorted { $0.0 < $1.0 }
        var accepted = (same: 0, different: 0)
        var previous = (fa: 0.0, fr: 1.0)
        var i = 0
        while i < scores.count {
            let value = scores[i].0
            while i < scores.count && scores[i].0 == value {
                if scores[i].1 { accepted.same += 1 } else { accepted.different += 1 }
                i += 1
            }
            let fr = 1 - Double(accepted.same) / Double(same.count), fa = Double(accepted.different) / Double(different.count)
            if fa >= fr {
                // The crossing lies between the previous point and this one (linear in the rates).
                let before = previous.fr - previous.fa, after = fa - fr
                let w = before + after > 0 ? before / (before + after) : 0
                return (previous.fa + w * (fa - previous.fa) + previous.fr + w * (fr - previous.fr)) / 2
            }
            previous = (fa, fr)
        }
        return 0
    }

    /// AUC by the Mann–Whitney statistic (ties count one half).
    public static func areaUnderROC(same: [Float], different: [Float]) -> Double {
        guard !same.isEmpty, !different.isEmpty else { return 1 }
        let d = different.sorted()
        var wins = 0.0
        for s in same {
            let above = d.count - upperBound(d, s)       // different pairs scoring worse (higher)
            let ties = upperBound(d, s) - lowerBound(d, s)
            wins += Double(above) + 0.5 * Double(ties)
        }
        return wins / (Double(same.count) * Double(d.count))
    }

    static func lowerBound(_ a: [Float], _ x: Float) -> Int {
        var lo = 0, hi = a.count
        while lo < hi { let m = (lo + hi) / 2; if a[m] < x { lo = m + 1 } else { hi = m } }
        return lo
    }

    static func upperBound(_ a: [Float], _ x: Float) -> Int {
        var lo = 0, hi = a.count
        while lo < hi { let m = (lo + hi) / 2; if a[m] <= x { lo = m + 1 } else { hi = m } }
        return lo
    }
}

/// Scores of pairs of rows (for `gallery evaluate` and the trainer's reports).
public enum HeadEvaluation {
    public static func distances(_ matrix: [Float], _ pairs: (same: [(Int, Int)], different: [(Int, Int)])) -> (same: [Float], different: [Float]) {
        HeadTrainer.distances(matrix, pairs)
    }

    public static func dissimilarities(_ head: MetricHead, _ f: [Float], _ pairs: (same: [(Int, Int)], different: [(Int, Int)])) -> (same: [Float], different: [Float]) {
        head.dissimilarities(f, pairs)
    }
}
