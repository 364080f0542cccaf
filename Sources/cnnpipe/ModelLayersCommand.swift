import ArgumentParser
import CNNRuntime
import Foundation

struct ModelLayers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "The layers visualize-activations can show: name, op, shape and receptive field at an input size.")

    @Argument(help: "Model name (from the models folder), .onnx or dlib .dat path.") var model: String
    @Option(help: "Input size HxW for models without a fixed one.") var size: String = "256x256"
    @Flag(help: "Only the names, one a line.") var names = false

    func run() throws {
        let graph = try orFail { try models.load(model) }
        let (h, w) = try LayerCatalog.fixedInputSize(graph) ?? parseSize(size)
        let catalog = try orFail(model) { try LayerCatalog(graph, height: h, width: w) }
        if names {
            for layer in catalog.layers { print(layer.name) }
            return
        }
        print("\(catalog.layers.count) layers at input \(h)x\(w) (name, op, [N, C, H, W], receptive field in input pixels):")
        let width = min(48, catalog.layers.map(\.name.count).max() ?? 10)
        for layer in catalog.layers {
            let name = layer.name.padding(toLength: max(width, layer.name.count), withPad: " ", startingAt: 0)
            let op = layer.opType.padding(toLength: 14, withPad: " ", startingAt: 0)
            let shape = "[" + layer.shape.map(String.init).joined(separator: ", ") + "]"
            print("\(name)  \(op) \(shape.padding(toLength: 20, withPad: " ", startingAt: 0)) \(layer.field.map { "\($0)" } ?? "field ?")")
        }
    }
}
