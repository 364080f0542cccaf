import Foundation

/// Green's "cubehelix" colour scheme (Bull. Astr. Soc. India 39, 289, 2011): a helix through the
/// RGB cube around the grey diagonal, so brightness rises monotonically from black to white and the
/// map reads correctly in greyscale. Precomputed as a 256-entry table.
public struct ColorMap: Sendable {
    public let table: [SIMD3<Float>]

    /// start colour (0 blue … 3), rotations, hue (saturation) and gamma as in the paper.
    public init(start: Double = 0.5, rotations: Double = -1.5, hue: Double = 1.2, gamma: Double = 1) {
        table = (0..<256).map { i in
            let lambda = pow(Double(i) / 255, gamma)
            let phi = 2 * Double.pi * (start / 3 + rotations * Double(i) / 255)
            let amplitude = hue * lambda * (1 - lambda) / 2
            let c = cos(phi), s = sin(phi)
            let r = lambda + amplitude * (-0.14861 * c + 1.78277 * s)
            let g = lambda + amplitude * (-0.29227 * c - 0.90649 * s)
            let b = lambda + amplitude * (1.97294 * c)
            return SIMD3(Float(min(1, max(0, r))), Float(min(1, max(0, g))), Float(min(1, max(0, b))))
        }
    }

    public static let standard = ColorMap()

    /// The colour of v in 0…1 (clamped).
    @inline(__always) public func color(_ v: Float) -> SIMD3<Float> {
        let i = Int((min(1, max(0, v)) * 255).rounded())
        return table[i]
    }
}

/// Scales values to 0…1 by their minimum and maximum (all zero when flat).
func normalised(_ values: ArraySlice<Float>) -> [Float] {
    guard let lo = values.min(), let hi = values.max(), hi > lo else { return [Float](repeating: 0, count: values.count) }
    let inv = 1 / (hi - lo)
    return values.map { ($0 - lo) * inv }
}
