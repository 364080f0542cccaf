/// The input region one unit of a feature map sees. Along each axis, unit i of the map looks at
/// input pixels [start + i·jump, start + i·jump + size): `jump` is the product of the strides on the
/// path, `size` grows by (dilated kernel − 1)·jump at each convolution or pooling, and `start` moves
/// back by each begin pad (times the jump there). `start` may be negative: the field reaches into padding.
public struct ReceptiveField: Equatable, Sendable, CustomStringConvertible {
    public struct Axis: Equatable, Sendable {
        public var jump: Double
        public var size: Double
        public var start: Double

        public init(jump: Double, size: Double, start: Double) {
            self.jump = jump; self.size = size; self.start = start
        }

        public static let pixel = Axis(jump: 1, size: 1, start: 0)

        /// Input pixels [lo, hi) seen by unit `index`.
        public func span(_ index: Int) -> (lo: Double, hi: Double) {
            let lo = start + Double(index) * jump
            return (lo, lo + size)
        }

        /// Through a window of `kernel` taps spaced `dilation` apart, stepping `stride`, after `padBegin`.
        func window(kernel: Int, stride: Int, dilation: Int, padBegin: Int) -> Axis {
            Axis(jump: jump * Double(stride), size: size + Double(dilation * (kernel - 1)) * jump,
                 start: start - Double(padBegin) * jump)
        }

        /// The smallest field holding both.
        func union(_ other: Axis) -> Axis {
            let lo = min(start, other.start), hi = max(start + size, other.start + other.size)
            return Axis(jump: max(jump, other.jump), size: hi - lo, start: lo)
        }

        /// Everything units 0..<count see (a global pooling or reduction over the axis).
        func whole(_ count: Int) -> Axis {
            Axis(jump: jump * Double(max(1, count)), size: size + Double(max(0, count - 1)) * jump, start: start)
        }
    }

    public var y: Axis
    public var x: Axis

    public init(y: Axis, x: Axis) { self.y = y; self.x = x }

    public static let pixel = ReceptiveField(y: .pixel, x: .pixel)

    /// The input rectangle (x, y, width, height) unit (row, column) sees.
    public func rectangle(row: Int, column: Int) -> (x: Double, y: Double, width: Double, height: Double) {
        let (x0, _) = x.span(column), (y0, _) = y.span(row)
        return (x0, y0, x.size, y.size)
    }

    public var description: String {
        func f(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.2f", v) }
        let size = x.size == y.size ? f(x.size) : "\(f(y.size))x\(f(x.size))"
        let jump = x.jump == y.jump ? f(x.jump) : "\(f(y.jump))x\(f(x.jump))"
        let start = x.start == y.start ? f(x.start) : "\(f(y.start)),\(f(x.start))"
        return "field \(size) step \(jump) start \(start)"
    }
}
