/// An EXIF orientation (1...8): how the stored pixel grid is turned to be seen upright. Maps
/// normalised coordinates (0...1 over the image) between the stored grid and the upright image.
public struct Orientation: Sendable, Equatable {
    public let value: Int

    public init(_ value: Int?) { self.value = (1...8).contains(value ?? 1) ? value ?? 1 : 1 }

    public static let upright = Orientation(1)

    /// Whether width and height trade places (a quarter turn).
    public var swapsAxes: Bool { value >= 5 }

    /// The upright image's size for a stored grid of `width` × `height`.
    public func uprightSize(width: Int, height: Int) -> (width: Int, height: Int) {
        swapsAxes ? (height, width) : (width, height)
    }

    /// Where a stored-grid point (normalised) appears in the upright image.
    public func upright(_ x: Double, _ y: Double) -> (Double, Double) {
        switch value {
        case 2: (1 - x, y)
        case 3: (1 - x, 1 - y)
        case 4: (x, 1 - y)
        case 5: (y, x)
        case 6: (1 - y, x)
        case 7: (1 - y, 1 - x)
        case 8: (y, 1 - x)
        default: (x, y)
        }
    }

    /// The stored-grid point (normalised) that appears at an upright point.
    public func stored(_ u: Double, _ v: Double) -> (Double, Double) {
        switch value {
        case 2: (1 - u, v)
        case 3: (1 - u, 1 - v)
        case 4: (u, 1 - v)
        case 5: (v, u)
        case 6: (v, 1 - u)
        case 7: (1 - v, 1 - u)
        case 8: (1 - v, u)
        default: (u, v)
        }
    }

    /// A normalised rectangle (x, y, width, height) mapped through `map` (corners, then min/max).
    public static func mapRect(_ r: (x: Double, y: Double, w: Double, h: Double),
                               _ map: (Double, Double) -> (Double, Double)) -> (x: Double, y: Double, w: Double, h: Double) {
        let a = map(r.x, r.y), b = map(r.x + r.w, r.y + r.h)
        return (min(a.0, b.0), min(a.1, b.1), abs(a.0 - b.0), abs(a.1 - b.1))
    }
}

extension Orientation {
    public enum Mirror: String, CaseIterable, Sendable { case none, horizontal, vertical }

    /// The orientation that turns an image `degrees` clockwise (a multiple of 90), then mirrors it:
    /// one transform for the pixels (`Image.applyingOrientation`) and the points (`upright`).
    public init(clockwise degrees: Int, then mirror: Mirror) {
        func turned(_ p: (Double, Double)) -> (Double, Double) {
            var q = p
            for _ in 0..<(((degrees / 90) % 4) + 4) % 4 { q = (1 - q.1, q.0) }
            switch mirror {
            case .none: break
            case .horizontal: q.0 = 1 - q.0
            case .vertical: q.1 = 1 - q.1
            }
            return q
        }
        // The eight orientations differ at a point off both diagonals and axes of symmetry.
        let probe = (0.25, 0.125)
        self = (1...8).map { Orientation($0) }.first { o in
            let a = o.upright(probe.0, probe.1), b = turned(probe)
            return abs(a.0 - b.0) < 1e-9 && abs(a.1 - b.1) < 1e-9
        }!
    }
}
