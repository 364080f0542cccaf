import CNNRuntime
import FrameModel

/// A two-unit model made in the test: one 3x3 convolution (no padding, so the frame's borders are
/// no edges) on the grey level with hand-set
/// filters, unit 0 a vertical-edge detector (dark left, bright right), unit 1 a horizontal one (dark
/// above, bright below), then a Relu.
enum EdgeModel {
    static var graph: ModelGraph {
        let vertical: [Float] = [-1, 0, 1, -2, 0, 2, -1, 0, 1]
        let horizontal: [Float] = [-1, -2, -1, 0, 0, 0, 1, 2, 1]
        // Same filter on R, G and B, a third each: the grey level.
        var weights: [Float] = []
        for filter in [vertical, horizontal] { for _ in 0..<3 { weights += filter.map { $0 / 3 } } }
        return ModelGraph(
            name: "edges",
            nodes: [
                Node(name: "edges", opType: "Conv", inputs: ["image", "w"], outputs: ["edges"],
                     attributes: ["kernel_shape": .ints([3, 3])]),
                Node(name: "relu", opType: "Relu", inputs: ["edges"], outputs: ["relu"]),
            ],
            inputs: [ValueInfo(name: "image", elementType: .float, shape: [1, 3, nil, nil])],
            outputs: [ValueInfo(name: "relu", elementType: .float, shape: nil)],
            initializers: ["w": Tensor(shape: [2, 3, 3, 3], floats: weights)], opsetVersion: 17)
    }

    /// A grey image, dark (0.1) left of column `x` and bright (0.9) from it on; or, with
    /// `horizontal`, dark above row `x`.
    static func step(at x: Int, width: Int = 64, height: Int = 48, horizontal: Bool = false) -> FloatImage {
        var image = FloatImage(width: width, height: height, channels: 3)
        for row in 0..<height {
            for col in 0..<width {
                let v: Float = (horizontal ? row : col) < x ? 0.1 : 0.9
                for c in 0..<3 { image.samples[(row * width + col) * 3 + c] = v }
            }
        }
        return image
    }
}
