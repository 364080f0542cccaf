import Drawing
import PluginKit

extension Param where Value == SIMD3<Float> {
    /// A colour: #rrggbb or a name (red, green, blue, yellow, ...).
    init(_ name: String, colour: String, _ doc: String) {
        self.init(.string(name, default: colour, doc)) { text in
            guard let c = parseColor(text) else { throw StageError("not a colour: \(text)") }
            return c
        }
    }
}
