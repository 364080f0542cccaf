import Foundation
import MetricLearning

/// Matching faces against a gallery with its learned head (when it has one and `useHead`), else with
/// the plain distance: what `faces identify`, `faces verify` and the identify stage share.
///
/// With a transform, the gallery's embeddings and the queries are mapped by f first and distances
/// are measured in f's space, with the head's threshold; with a verifier, the nearest person is
/// accepted when P(same) with one of their embeddings is ≥ 0.5.
public struct FaceMatcher: Sendable {
    public let index: GalleryIndex
    public let head: MetricHead?
    /// The distance below which a face is the person (the head's threshold unless given).
    public let tolerance: Float

    public static let plainTolerance: Float = 0.6

    public init(gallery: Gallery, useHead: Bool = true, tolerance: Float? = nil,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        let plain = try GalleryIndex(gallery: gallery, threads: threads)
        let head = useHead ? try gallery.currentHead() : nil
        self.head = head
        self.tolerance = tolerance ?? head?.threshold ?? Self.plainTolerance
        guard let head, head.transform != nil else { index = plain; return }
        var rowPerson = [Int32](repeating: 0, count: plain.count)
        for p in 0..<plain.names.count { for r in plain.personStart[p]..<plain.personStart[p + 1] { rowPerson[r] = Int32(p) } }
        index = try GalleryIndex(names: plain.names, rowPerson: rowPerson, matrix: head.embed(plain.matrix, rows: plain.count),
                                 modelIdentity: plain.modelIdentity, threads: threads)
    }

    /// Who each descriptor is (see the type's description).
    public func identify(_ descriptors: [[Float]], runnersUp: Int = 0) throws -> [Identification] {
        guard let head else { return try index.identify(descriptors, tolerance: tolerance, runnersUp: runnersUp) }
        for (i, q) in descriptors.enumerated() { try Embedding.validate(q, "query \(i + 1)") }
        let queries = descriptors.map(head.embed)
        return try index.nearestMany(queries, k: runnersUp + 1).enumerated().map { i, matches in
            guard let best = matches.first else { return Identification(name: nil, distance: nil, runnersUp: []) }
            var who = Identification(name: best.distance <= tolerance ? best.name : nil, distance: best.distance,
                                     runnersUp: Array(matches.dropFirst()))
            if head.verifier != nil {
                // The verifier decides: the best probability over the nearest person's embeddings.
                let p = index.embeddings(of: best.name).compactMap { head.probability(queries[i], $0) }.max() ?? 0
                who.probability = p
                who.name = p >= MetricHead.probabilityThreshold ? best.name : nil
            }
            return who
        }
    }

    /// Two descriptors compared with `head` (nil: the plain distance): the distance in the head's
    /// space, the verifier's probability, and the verdict.
    public static func compare(_ a: [Float], _ b: [Float], head: MetricHead?, tolerance: Float? = nil)
        -> (distance: Float, probability: Float?, same: Bool) {
        guard let head else {
            let d = MetricHead.distance(a, b)
            return (d, nil, d <= (tolerance ?? plainTolerance))
        }
        let fa = head.embed(a), fb = head.embed(b)
        let d = MetricHead.distance(fa, fb), p = head.probability(fa, fb)
        let same = p.map { $0 >= MetricHead.probabilityThreshold } ?? (d <= (tolerance ?? head.threshold))
        return (d, p, same)
    }
}
