/// What one layer of a known dlib network must be. dlib files do not say which wrapper is a tag
/// and which a skip, nor which tag an add_prev or skip refers to (dlib-format.md §3), so each
/// supported network's C++ template is written out here as data and every record of a file is
/// checked against it.
enum DlibLayerSpec: Equatable {
    case convolution(filters: Int, kernel: Int, stride: Int)
    case affine
    case relu
    case maxPool(window: Int, stride: Int)
    case averagePool(window: Int, stride: Int)
    case globalAveragePool
    case addPrevious(tag: Int)
    case tag(Int)
    case skip(Int)
    case fullyConnected(outputs: Int, bias: Bool)

    var isTagOrSkip: Bool {
        switch self {
        case .tag, .skip: true
        default: false
        }
    }

    /// dlib's default padding, which both files use: kernel/2 at stride 1, 0 otherwise.
    private static func defaultPadding(kernel: Int, stride: Int) -> Int { stride == 1 ? kernel / 2 : 0 }

    func matches(_ record: DlibLayerRecord) -> Bool {
        switch (self, record) {
        case (.convolution(let filters, let k, let s), .convolution(let c)):
            let pad = Self.defaultPadding(kernel: k, stride: s)
            return c.filters == filters && c.kernel == [k, k] && c.stride == [s, s] && c.padding == [pad, pad]
        case (.affine, .affine), (.relu, .relu), (.addPrevious, .addPrevious):
            return true
        case (.maxPool(let w, let s), .maxPool(let p)), (.averagePool(let w, let s), .averagePool(let p)):
            let pad = Self.defaultPadding(kernel: w, stride: s)
            return p.window == [w, w] && p.stride == [s, s] && p.padding == [pad, pad]
        case (.globalAveragePool, .averagePool(let p)):
            return p.isGlobal && p.padding == [0, 0]
        case (.fullyConnected(let outputs, let bias), .fullyConnected(let f)):
            return f.outputs == outputs && (f.biases != nil) == bias
        default:
            return false
        }
    }

    var summary: String {
        switch self {
        case .convolution(let f, let k, let s):
            "con \(f) \(k)×\(k)/\(s) pad \(Self.defaultPadding(kernel: k, stride: s))"
        case .affine: "affine"
        case .relu: "relu"
        case .maxPool(let w, let s): "max_pool \(w)×\(w)/\(s) pad \(Self.defaultPadding(kernel: w, stride: s))"
        case .averagePool(let w, let s): "avg_pool \(w)×\(w)/\(s) pad \(Self.defaultPadding(kernel: w, stride: s))"
        case .globalAveragePool: "avg_pool everything"
        case .addPrevious(let t): "add_prev\(t)"
        case .tag(let t): "tag\(t)"
        case .skip(let t): "skip\(t)"
        case .fullyConnected(let n, let bias): "fc \(n)" + (bias ? "" : " no bias")
        }
    }
}

/// A supported dlib network: its layers in forward order (the one applied to the input first),
/// each with a readable name, and the input layer it expects.
struct DlibArchitecture {
    enum Input: Equatable {
        case sizedImage(rows: Int, columns: Int)
        case imagePyramid
    }

    struct Layer {
        let name: String
        let spec: DlibLayerSpec
    }

    let name: String
    let input: Input
    let layers: [Layer]
    /// The graph output's name.
    let outputName: String

    /// The architecture a loss record implies: loss_metric = the face descriptor ResNet,
    /// loss_mmod = the MMOD face detector.
    static func forLoss(_ loss: DlibLoss) -> DlibArchitecture {
        switch loss {
        case .metric: faceResNet
        case .mmod: faceDetector
        }
    }

    /// dlib_face_recognition_resnet_model_v1: a 7×7/2 stem, residual blocks at 32, 64, 128 and 256
    /// channels (each "down" block halves the size), global average pooling and a 128-D fc (§5).
    static let faceResNet: DlibArchitecture = {
        var layers: [Layer] = []
        func add(_ name: String, _ spec: DlibLayerSpec) { layers.append(Layer(name: name, spec: spec)) }
        // residual: relu(x + bn(conv(relu(bn(conv(x)))))), tag1 marking x.
        func residual(_ block: String, _ filters: Int) {
            add(block + ".tag1", .tag(1))
            add(block + ".conv1", .convolution(filters: filters, kernel: 3, stride: 1))
            add(block + ".bn1", .affine)
            add(block + ".relu1", .relu)
            add(block + ".conv2", .convolution(filters: filters, kernel: 3, stride: 1))
            add(block + ".bn2", .affine)
            add(block + ".add", .addPrevious(tag: 1))
            add(block + ".relu", .relu)
        }
        // residual_down: relu(avgpool2×2/2(x) ⊕ F(x)), F starting with a stride-2 conv; the shortcut
        // has no projection, the zero-padded add widens it.
        func residualDown(_ block: String, _ filters: Int) {
            add(block + ".tag1", .tag(1))
            add(block + ".conv1", .convolution(filters: filters, kernel: 3, stride: 2))
            add(block + ".bn1", .affine)
            add(block + ".relu1", .relu)
            add(block + ".conv2", .convolution(filters: filters, kernel: 3, stride: 1))
            add(block + ".bn2", .affine)
            add(block + ".tag2", .tag(2))
            add(block + ".skip1", .skip(1))
            add(block + ".shortcut", .averagePool(window: 2, stride: 2))
            add(block + ".add", .addPrevious(tag: 2))
            add(block + ".relu", .relu)
        }
        add("stem.conv", .convolution(filters: 32, kernel: 7, stride: 2))
        add("stem.bn", .affine)
        add("stem.relu", .relu)
        add("stem.pool", .maxPool(window: 3, stride: 2))
        var residuals = 0, downs = 0
        for (filters, down, repeats) in [(32, false, 3), (64, true, 3), (128, true, 2), (256, true, 2), (256, true, 0)] {
            if down { downs += 1; residualDown("down\(downs)", filters) }
            for _ in 0..<repeats { residuals += 1; residual("res\(residuals)", filters) }
        }
        add("pool", .globalAveragePool)
        add("fc", .fullyConnected(outputs: 128, bias: false))
        return DlibArchitecture(name: "face ResNet (dlib_face_recognition_resnet_model_v1)",
                                input: .sizedImage(rows: 150, columns: 150), layers: layers, outputName: "descriptor")
    }()

    /// mmod_human_face_detector: three 5×5/2 downsampling convs, three 5×5 convs of 45 filters, each
    /// followed by batch norm (stored as bn_con) and relu, then a 9×9 conv giving one score per
    /// position (stride 8 relative to the image) (§6).
    static let faceDetector: DlibArchitecture = {
        var layers: [Layer] = []
        func block(_ name: String, _ filters: Int, stride: Int) {
            layers += [Layer(name: name + ".conv", spec: .convolution(filters: filters, kernel: 5, stride: stride)),
                       Layer(name: name + ".bn", spec: .affine), Layer(name: name + ".relu", spec: .relu)]
        }
        block("down1", 16, stride: 2)
        block("down2", 32, stride: 2)
        block("down3", 32, stride: 2)
        block("features1", 45, stride: 1)
        block("features2", 45, stride: 1)
        block("features3", 45, stride: 1)
        layers.append(Layer(name: "score.conv", spec: .convolution(filters: 1, kernel: 9, stride: 1)))
        return DlibArchitecture(name: "MMOD face detector (mmod_human_face_detector)", input: .imagePyramid,
                                layers: layers, outputName: "scores")
    }()
}
