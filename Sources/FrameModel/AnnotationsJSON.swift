import Foundation

extension Annotations {
    /// Compact JSON with sorted keys, the form that crosses the plugin boundary.
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public init(json: String) throws {
        self = try JSONDecoder().decode(Annotations.self, from: Data(json.utf8))
    }
}
