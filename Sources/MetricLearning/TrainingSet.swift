import CNNRuntime
import Foundation

/// Labelled embeddings (rows × 128, row-major) and the split into training and held-out rows.
public struct TrainingSet: Sendable {
    public var people: [String]
    /// Person index of each row.
    public var labels: [Int]
    public var vectors: [Float]
    public var count: Int { labels.count }

    public init(people: [String], labels: [Int], vectors: [Float]) throws {
        guard vectors.count == labels.count * MetricHead.dimension else {
            throw MetricLearningError("training set: \(vectors.count) numbers for \(labels.count) embeddings")
        }
        self.people = people; self.labels = labels; self.vectors = vectors
    }

    public func row(_ i: Int) -> ArraySlice<Float> { vectors[i * MetricHead.dimension ..< (i + 1) * MetricHead.dimension] }

    /// The rows `indices` as a matrix.
    public func rows(_ indices: [Int]) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(indices.count * MetricHead.dimension)
        for i in indices { out += row(i) }
        return out
    }

    /// Per person with two photos or more: a seeded shuffle, then `fraction` of the photos (at least
    /// one, when three or more) held out for validation; at least two always stay for training.
    /// People with one photo are skipped (no same-person pair to learn from).
    public struct Split: Sendable {
        public var training: [Int]
        public var validation: [Int]
        public var skippedPeople: [String]
    }

    public func split(fraction: Double, seed: UInt64) -> Split {
        var random = SeededRandom(seed: seed)
        var byPerson = [[Int]](repeating: [], count: people.count)
        for (i, p) in labels.enumerated() { byPerson[p].append(i) }
        var split = Split(training: [], validation: [], skippedPeople: [])
        for (p, rows) in byPerson.enumerated() where !rows.isEmpty {
            guard rows.count >= 2 else { split.skippedPeople.append(people[p]); continue }
            let shuffled = random.shuffled(rows)
            let held = rows.count >= 3 ? min(rows.count - 2, max(1, Int((Double(rows.count) * fraction).rounded()))) : 0
            split.validation += shuffled.prefix(held)
            split.training += shuffled.dropFirst(held)
        }
        split.training.sort(); split.validation.sort()
        return split
    }

    /// Pairs with at least one held-out row (each held-out row against every other used row, each
    /// pair once): what a new photo meets when compared with the gallery. Different-person pairs
    /// beyond `maxDifferent` are sampled.
    public func validationPairs(_ split: Split, maxDifferent: Int = 200_000, seed: UInt64) -> (same: [(Int, Int)], different: [(Int, Int)]) {
        let held = Set(split.validation)
        let all = split.training + split.validation
        var same: [(Int, Int)] = [], different: [(Int, Int)] = []
        for v in split.validation {
            for o in all where o != v && !(held.contains(o) && o < v) {
                if labels[o] == labels[v] { same.append((v, o)) } else { different.append((v, o)) }
            }
        }
        if different.count > maxDifferent {
            var random = SeededRandom(seed: seed ^ 0x5eed)
            different = Array(random.shuffled(different).prefix(maxDifferent))
        }
        return (same, different)
    }

    /// Every pair of rows (i < j), split by same and different person: to evaluate on another gallery.
    public func allPairs() -> (same: [(Int, Int)], different: [(Int, Int)]) {
        var same: [(Int, Int)] = [], different: [(Int, Int)] = []
        for i in 0..<count { for j in (i + 1)..<max(i + 1, count) {
            if labels[i] == labels[j] { same.append((i, j)) } else { different.append((i, j)) }
        } }
        return (same, different)
    }
}

