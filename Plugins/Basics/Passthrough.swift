import PluginKit

/// Hands every frame on unchanged (no copy). Useful as a graph junction and in tests.
final class Passthrough: Stage {
    static let name = "passthrough"
    static let summary = "Pass frames on unchanged"
    static let parameters: [Parameter] = []

    init(_ parameters: ParameterValues, host: StageHost) {}

    func process(_ inputs: [Frame], _ output: Output) throws {
        try output.pass(inputs[0])
    }
}
