import CNNRuntime

/// dlib's rectangle conventions (right and bottom inclusive, width = right − left + 1), which the
/// detector keeps until boxes become frame faces, so overlap tests and rounding match dlib.
extension DlibRectangle: CustomStringConvertible {
    /// Each corner rounded half away from zero (dlib's lround).
    init(_ r: DoubleRectangle) {
        self.init(left: Int(r.left.rounded()), top: Int(r.top.rounded()), right: Int(r.right.rounded()), bottom: Int(r.bottom.rounded()))
    }

    public var width: Int { max(0, right - left + 1) }
    public var height: Int { max(0, bottom - top + 1) }
    public var area: Int { width * height }
    public var isEmpty: Bool { left > right || top > bottom }

    func intersection(_ o: DlibRectangle) -> DlibRectangle {
        DlibRectangle(left: max(left, o.left), top: max(top, o.top), right: min(right, o.right), bottom: min(bottom, o.bottom))
    }

    /// The smallest rectangle containing both (dlib's `a + b`).
    func enclosing(_ o: DlibRectangle) -> DlibRectangle {
        DlibRectangle(left: min(left, o.left), top: min(top, o.top), right: max(right, o.right), bottom: max(bottom, o.bottom))
    }

    func contains(x: Int, y: Int) -> Bool { x >= left && x <= right && y >= top && y <= bottom }

    public var description: String { "[(\(left), \(top)) (\(right), \(bottom))]" }
}

/// dlib's drectangle: the same conventions with Double corners.
struct DoubleRectangle {
    var left: Double, top: Double, right: Double, bottom: Double

    /// A w × h window centred on (x, y): corners at ±(w − 1) / 2.
    static func centered(x: Double, y: Double, width: Double, height: Double) -> DoubleRectangle {
        DoubleRectangle(left: x - (width - 1) / 2, top: y - (height - 1) / 2, right: x + (width - 1) / 2, bottom: y + (height - 1) / 2)
    }

    func mapped(_ f: (Double, Double) -> (Double, Double)) -> DoubleRectangle {
        let (l, t) = f(left, top), (r, b) = f(right, bottom)
        return DoubleRectangle(left: l, top: t, right: r, bottom: b)
    }
}
