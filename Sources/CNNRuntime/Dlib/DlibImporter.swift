import Foundation

/// Reads dlib DNN model files (`.dat`, dlib's own serialization) into the runtime's ModelGraph.
/// Supported: the face descriptor ResNet (dlib_face_recognition_resnet_model_v1.dat) and the MMOD
/// CNN face detector (mmod_human_face_detector.dat); which one a file is comes from its loss record.
public enum DlibImporter {
    public struct Options: Sendable {
        /// Fold every affine (batch-norm) layer into the convolution before it: one pass over the
        /// feature map instead of three (conv, Mul, Add), and the ReLU after it then fuses into the
        /// convolution too. The folded node is named after both ("res1.conv1+bn1") and its output is
        /// the affine layer's output. Off, the graph has one node per dlib layer (conv, then Mul and
        /// Add for the affine), so every layer's own output can be inspected.
        public var foldAffineIntoConvolution = true

        public init(foldAffineIntoConvolution: Bool = true) {
            self.foldAffineIntoConvolution = foldAffineIntoConvolution
        }
    }

    /// The file's graph (see `network(path:)` for what comes with it).
    public static func load(path: String, options: Options = Options()) throws -> ModelGraph {
        try network(path: path, options: options).graph
    }

    public static func network(path: String, options: Options = Options()) throws -> DlibNetwork {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelError("\(path): cannot read file") }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        do { return try network(bytes: [UInt8](data), name: name, options: options) } catch let e as ModelError {
            throw ModelError("\(path): \(e.description)")
        }
    }

    public static func network(bytes: [UInt8], name: String = "dlib", options: Options = Options()) throws -> DlibNetwork {
        let file = try DlibNetworkFile(bytes: bytes)
        let architecture = DlibArchitecture.forLoss(file.loss)
        var builder = DlibGraphBuilder(architecture: architecture, foldAffine: options.foldAffineIntoConvolution)
        let graph = try builder.build(file, name: name)
        return DlibNetwork(graph: graph, loss: file.loss, input: file.input, architectureName: architecture.name,
                           layerNames: architecture.layers.filter { !$0.spec.isTagOrSkip }.map(\.name))
    }

    /// Interleaved 8-bit RGB pixels (rows top to bottom) as the graph input: planar [1, 3, height, width]
    /// float with values 0…255 (the graph itself subtracts the means and divides by 256).
    public static func inputTensor(rgb: [UInt8], width: Int, height: Int) throws -> Tensor {
        let plane = width * height
        guard width > 0, height > 0, rgb.count == 3 * plane else {
            throw ModelError("RGB image of \(rgb.count) bytes does not match \(width)×\(height)")
        }
        let t = Tensor(uninitialized: [1, 3, height, width])
        let out = t.buffer.pointer
        rgb.withUnsafeBufferPointer { src in
            for c in 0..<3 {
                let dst = out + c * plane
                for i in 0..<plane { dst[i] = Float(src[3 * i + c]) }
            }
        }
        return t
    }
}

/// An imported dlib network with what the file says beyond the graph.
public struct DlibNetwork: Sendable {
    public enum Kind: Sendable { case faceDescriptor, faceDetector }

    public let graph: ModelGraph
    public let loss: DlibLoss
    public let input: DlibInputLayer
    /// The architecture the file was checked against.
    public let architectureName: String
    /// dlib's computational layers in forward order, by their graph names before any folding
    /// ("stem.conv", "res1.conv1", "res1.bn1", …, "fc"); tags and skips are not layers of their own.
    public let layerNames: [String]

    public var kind: Kind {
        if case .mmod = loss { return .faceDetector }
        return .faceDescriptor
    }

    /// The graph input: planar RGB [1, 3, H, W], values 0…255.
    public var inputName: String { graph.inputs[0].name }
    public var outputName: String { graph.outputs[0].name }
}
