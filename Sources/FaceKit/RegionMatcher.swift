import CNNRuntime

/// Face regions drawn by people or other programs (the XMP regions of digiKam, Lightroom, exiftool)
/// matched to the faces the detector finds, by intersection over union. Hand-drawn regions are
/// looser than the detector's tight boxes (they take in hair and chin): a region 1.5 times the
/// box's side around the same centre overlaps it by 1/1.5² = 0.44, at 1.8 times by 0.31, hence the
/// default least overlap of 0.3 (measured on the corpus in RegionMatcherTests).
public enum RegionMatcher {
    public static let defaultMinOverlap = 0.3

    /// A rectangle in pixels: top-left corner and size.
    public struct Box: Sendable, Equatable {
        public var x, y, width, height: Double
        public init(x: Double, y: Double, width: Double, height: Double) {
            self.x = x; self.y = y; self.width = width; self.height = height
        }

        /// dlib's rectangle (right and bottom inclusive) as the pixels it covers.
        public init(_ r: DlibRectangle) {
            self.init(x: Double(r.left), y: Double(r.top), width: Double(r.width), height: Double(r.height))
        }

        public var area: Double { max(0, width) * max(0, height) }
    }

    /// Intersection over union, 0 ... 1.
    public static func overlap(_ a: Box, _ b: Box) -> Double {
        let w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
        let h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        guard w > 0, h > 0 else { return 0 }
        let intersection = w * h
        return intersection / (a.area + b.area - intersection)
    }

    /// For each region, the face it overlaps most when that overlap is at least `minOverlap`
    /// (nil otherwise), and that best overlap.
    public static func match(regions: [Box], faces: [Box], minOverlap: Double = defaultMinOverlap) -> [(face: Int?, overlap: Double)] {
        regions.map { region in
            var best: Int?, bestOverlap = 0.0
            for (i, face) in faces.enumerated() {
                let o = overlap(region, face)
                if o > bestOverlap { best = i; bestOverlap = o }
            }
            return (bestOverlap >= minOverlap ? best : nil, bestOverlap)
        }
    }
}
