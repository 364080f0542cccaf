/// Who a face is: the nearest enrolled person when within the tolerance, else nobody.
public struct Identification: Sendable, Equatable {
    /// nil: nobody in the gallery is within the tolerance (an unknown face).
    public var name: String?
    /// Distance to the nearest person (whether or not within the tolerance); nil for an empty gallery.
    public var distance: Float?
    /// The next nearest people, nearest first.
    public var runnersUp: [GalleryMatch]
    /// The gallery head's verifier: P(same person) with the nearest person (nil without a verifier).
    public var probability: Float? = nil
}

extension GalleryIndex {
    /// Identifies several faces' descriptors with one matrix product.
    public func identify(_ descriptors: [[Float]], tolerance: Float, runnersUp: Int = 0) throws -> [Identification] {
        guard !descriptors.isEmpty else { return [] }
        return try nearestMany(descriptors, k: runnersUp + 1).map { matches in
            guard let best = matches.first else { return Identification(name: nil, distance: nil, runnersUp: []) }
            return Identification(name: best.distance <= tolerance ? best.name : nil, distance: best.distance,
                                  runnersUp: Array(matches.dropFirst()))
        }
    }
}
