/// What the `style` parameter says: one of the 26 built-in styles or a weighted blend of them.
struct BuiltInBlend: Equatable {
    static let count = 26
    /// Normalised weights, one per built-in style.
    let weights: [Float]

    /// "7" or "3:0.5,12:0.5" (weights are normalised to sum to 1).
    init(parsing text: String) throws {
        var w = [Float](repeating: 0, count: Self.count)
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            guard let index = Int(pieces[0].trimmingWhitespace()), (0..<Self.count).contains(index) else {
                throw StyleError("style: '\(pieces[0])' is not a style index 0-25")
            }
            var weight: Float = 1
            if pieces.count == 2 {
                guard let v = Float(pieces[1].trimmingWhitespace()), v.isFinite else {
                    throw StyleError("style: weight '\(pieces[1])' is not a number")
                }
                guard v >= 0 else { throw StyleError("style: weight \(v) for style \(index) is negative") }
                weight = v
            } else if pieces.count > 2 {
                throw StyleError("style: '\(part)' is not index or index:weight")
            }
            w[index] += weight
        }
        let sum = w.reduce(0, +)
        guard sum > 0 else { throw StyleError("style: the weights add up to zero") }
        weights = w.map { $0 / sum }
    }
}

/// A 100-number Magenta style vector written out as text ("0.12,-1.3,...").
func parseStyleVector(_ text: String) throws -> [Float] {
    let values = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map { Float($0) }
    guard values.count == 100, values.allSatisfy({ $0 != nil && $0!.isFinite }) else {
        throw StyleError("style-vector: needs 100 comma-separated numbers, got \(values.count)")
    }
    return values.map { $0! }
}

struct StyleError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension Substring {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
