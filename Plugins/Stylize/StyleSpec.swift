import PluginKit

/// What the `style` parameter says: one of the 26 built-in styles or a weighted blend of them.
struct BuiltInBlend: Equatable {
    static let count = 26
    /// Names for the network's styles (it ships numbered only), after how they look.
    static let names = ["golden-haze", "ink-outline", "charcoal", "shards", "poster-red", "ember", "night-dots", "fauve",
                        "pastel", "tapestry", "sepia", "gold-leaf", "lavender", "bold-colour", "frost", "stained-glass",
                        "cobalt", "bricks", "woodcut", "swirls", "crimson", "pop-art", "inkblot", "moonlight", "snow", "mosaic"]
    static let catalogue = names.enumerated().map { "\($0.offset) \($0.element)" }.joined(separator: ", ")
    /// Normalised weights, one per built-in style.
    let weights: [Float]

    /// "7" or "3:0.5,12:0.5" as a list (weights are normalised to sum to 1).
    init(_ styles: [Weighted]) throws {
        var w = [Float](repeating: 0, count: Self.count)
        for style in styles {
            guard let index = Int(style.name).flatMap({ (0..<Self.count).contains($0) ? $0 : nil }) ?? Self.names.firstIndex(of: style.name) else {
                throw StyleError("style: '\(style.name)' is not a built-in style (0-25 or a name: \(Self.catalogue))")
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
