import PluginKit

/// What the `style` parameter says: one of the 26 built-in styles or a weighted blend of them.
struct BuiltInBlend: Equatable {
    static let count = 26
    /// Normalised weights, one per built-in style.
    let weights: [Float]

    /// "7" or "3:0.5,12:0.5" as a list (weights are normalised to sum to 1).
    init(_ styles: [Weighted]) throws {
        var w = [Float](repeating: 0, count: Self.count)
        for style in styles {
            guard let index = Int(style.name), (0..<Self.count).contains(index) else {
                throw StyleError("style: '\(style.name)' is not a style index 0-25")
            }
            w[index] += style.weight
        }
        let sum = w.reduce(0, +)
        guard sum > 0 else { throw StyleError("style: the weights add up to zero") }
        weights = w.map { $0 / sum }
    }
}

struct StyleError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
