import Foundation

/// A computational layer's details record, decoded and checked for internal consistency
/// (alias-tensor shapes against the stated sizes, parameter counts). dlib-format.md §4.
enum DlibLayerRecord {
    case convolution(DlibConvolution)
    case affine(DlibAffine)
    case relu
    case maxPool(DlibPooling)
    case averagePool(DlibPooling)
    case addPrevious
    case fullyConnected(DlibFullyConnected)

    /// How the layer reads in messages, e.g. "con 32 3×3/2 pad 0".
    var summary: String {
        switch self {
        case .convolution(let c):
            return "con \(c.filters) \(c.kernel[0])×\(c.kernel[1])/\(c.stride[0]) pad \(c.padding[0])"
        case .affine(let a): return a.fromBatchNorm ? "bn_con (as affine)" : "affine"
        case .relu: return "relu"
        case .maxPool(let p): return "max_pool " + p.summary
        case .averagePool(let p): return "avg_pool " + p.summary
        case .addPrevious: return "add_prev"
        case .fullyConnected(let f): return "fc \(f.outputs)" + (f.biases == nil ? " no bias" : "")
        }
    }
}

struct DlibConvolution {
    let filters: Int, inputChannels: Int
    let kernel: [Int], stride: [Int], padding: [Int]     // [rows, columns]
    let weights: [Float]                                  // filters × inputChannels × kernel rows × kernel columns
    let biases: [Float]?
}

/// y = gamma·x + beta per channel (CONV_MODE); a batch-norm record is already folded into this form.
struct DlibAffine {
    let gamma: [Float], beta: [Float]
    let fromBatchNorm: Bool
}

struct DlibPooling {
    let window: [Int], stride: [Int], padding: [Int]      // window 0×0 = the whole input
    var isGlobal: Bool { window == [0, 0] }
    var summary: String { isGlobal ? "everything" : "\(window[0])×\(window[1])/\(stride[0]) pad \(padding[0])" }
}

struct DlibFullyConnected {
    let outputs: Int, inputs: Int
    let weights: [Float]                                  // inputs × outputs (dlib's layout)
    let biases: [Float]?
}

extension DlibReader {
    /// One layer details record: its version string, then that layer type's fields.
    mutating func layerRecord() throws -> DlibLayerRecord {
        let start = offset
        let version = try string("layer type")
        switch version {
        case "con_4", "con_5", "con_6": return .convolution(try convolution(version, start: start))
        case "affine_", "affine_2": return .affine(try affine(version, start: start))
        case "bn_con2": return .affine(try batchNorm(start: start))
        case "relu_": return .relu
        case "relu_2":
            if try bool("relu disabled") { throw error("disabled relu layers are not supported", at: start) }
            return .relu
        case "max_pool_2": return .maxPool(try pooling("max_pool"))
        case "avg_pool_2": return .averagePool(try pooling("avg_pool"))
        case "add_prev_": return .addPrevious
        case "fc_2", "fc_3": return .fullyConnected(try fullyConnected(version, start: start))
        default: throw error("layer type '\(printable(version))' is not supported", at: start)
        }
    }

    private mutating func convolution(_ version: String, start: Int) throws -> DlibConvolution {
        let params = try tensor("con params")
        let filters = try count("con num_filters")
        let kernel = [try count("con kernel rows"), try count("con kernel columns")]
        let stride = [try count("con stride_y"), try count("con stride_x")]
        let padding = [try count("con padding_y"), try count("con padding_x")]
        let filterShape = try aliasTensorShape("con filters")
        let biasShape = try aliasTensorShape("con biases")
        for name in ["lr_mult", "wd_mult", "bias_lr_mult", "bias_wd_mult"] { _ = try double("con " + name) }
        let useBias = version == "con_4" ? true : try bool("con use_bias")
        if version == "con_6", try bool("con use_relu") {
            throw error("con_6 with a fused ReLU is not supported", at: start)
        }
        guard filters > 0, kernel.allSatisfy({ $0 > 0 }), stride.allSatisfy({ $0 > 0 }),
              filterShape[0] == filters, filterShape[2] == kernel[0], filterShape[3] == kernel[1], filterShape[1] > 0 else {
            throw error("con record is inconsistent: \(filters) filters \(kernel) stride \(stride), filters tensor \(filterShape)", at: start)
        }
        let biasCount = useBias ? filters : 0
        guard let weightCount = product(filterShape), weightCount <= params.values.count,
              params.values.count - weightCount == biasCount, !useBias || biasShape == [1, filters, 1, 1] else {
            throw error("con record has \(params.values.count) parameters for filters \(filterShape) and biases \(biasShape)", at: start)
        }
        return DlibConvolution(filters: filters, inputChannels: filterShape[1], kernel: kernel, stride: stride, padding: padding,
                               weights: Array(params.values[..<weightCount]),
                               biases: useBias ? Array(params.values[weightCount...]) : nil)
    }

    private mutating func affine(_ version: String, start: Int) throws -> DlibAffine {
        let params = try tensor("affine params")
        let gammaShape = try aliasTensorShape("affine gamma"), betaShape = try aliasTensorShape("affine beta")
        let mode = try int("affine mode")
        if version == "affine_2", try bool("affine disabled") {
            throw error("disabled affine layers are not supported", at: start)
        }
        guard mode == 0 else { throw error("affine mode \(mode) (per element) is not supported, only per channel (0)", at: start) }
        return DlibAffine(gamma: try perChannel(params.values, 0, gammaShape, "affine gamma", start),
                          beta: try perChannel(params.values, gammaShape[1], betaShape, "affine beta", start), fromBatchNorm: false)
    }

    /// A training-time batch norm (bn_con2) read as dlib does: folded into an affine layer with its
    /// running statistics, g' = gamma / sqrt(running_var + eps), b' = beta − g'·running_mean.
    private mutating func batchNorm(start: Int) throws -> DlibAffine {
        let params = try tensor("bn params")
        let gammaShape = try aliasTensorShape("bn gamma"), betaShape = try aliasTensorShape("bn beta")
        _ = try tensor("bn means")
        _ = try tensor("bn invstds")
        let means = try tensor("bn running_means"), variances = try tensor("bn running_variances")
        _ = try count("bn num_updates")
        _ = try count("bn running_stats_window_size")
        for name in ["lr_mult", "wd_mult", "bias_lr_mult", "bias_wd_mult"] { _ = try double("bn " + name) }
        let eps = Float(try double("bn eps"))
        let gamma = try perChannel(params.values, 0, gammaShape, "bn gamma", start)
        let beta = try perChannel(params.values, gammaShape[1], betaShape, "bn beta", start)
        guard means.values.count == gamma.count, variances.values.count == gamma.count else {
            throw error("bn record has \(means.values.count) running means and \(variances.values.count) variances for \(gamma.count) channels", at: start)
        }
        var scale = [Float](repeating: 0, count: gamma.count), shift = scale
        for c in gamma.indices {
            scale[c] = gamma[c] / (variances.values[c] + eps).squareRoot()
            shift[c] = beta[c] - scale[c] * means.values[c]
        }
        return DlibAffine(gamma: scale, beta: shift, fromBatchNorm: true)
    }

    /// The slice of `params` an alias tensor of shape (1, k, 1, 1) at `offset` covers.
    private func perChannel(_ params: [Float], _ offset: Int, _ shape: [Int], _ what: String, _ start: Int) throws -> [Float] {
        let k = shape[1]
        guard shape == [1, k, 1, 1], k > 0, offset <= params.count, k <= params.count - offset,
              offset == 0 || params.count == offset + k else {
            throw error("\(what) has shape \(shape), not one value per channel of \(params.count / 2)", at: start)
        }
        return Array(params[offset..<(offset + k)])
    }

    private mutating func pooling(_ what: String) throws -> DlibPooling {
        let start = offset
        let window = [try count(what + " rows"), try count(what + " columns")]
        let stride = [try count(what + " stride_y"), try count(what + " stride_x")]
        let padding = [try count(what + " padding_y"), try count(what + " padding_x")]
        guard stride.allSatisfy({ $0 > 0 }), (window[0] == 0) == (window[1] == 0) else {
            throw error("\(what) has window \(window) and stride \(stride)", at: start)
        }
        return DlibPooling(window: window, stride: stride, padding: padding)
    }

    private mutating func fullyConnected(_ version: String, start: Int) throws -> DlibFullyConnected {
        let outputs = try count("fc num_outputs"), inputs = try count("fc num_inputs")
        let params = try tensor("fc params")
        let weightShape = try aliasTensorShape("fc weights"), biasShape = try aliasTensorShape("fc biases")
        let biasMode = try int("fc bias_mode")
        for name in ["lr_mult", "wd_mult", "bias_lr_mult", "bias_wd_mult"] { _ = try double("fc " + name) }
        let storedUseBias = version == "fc_2" ? true : try bool("fc use_bias")
        let useBias = biasMode == 0 && storedUseBias
        guard biasMode == 0 || biasMode == 1 else { throw error("fc bias_mode \(biasMode) is unknown", at: start) }
        guard outputs > 0, inputs > 0, weightShape == [inputs, outputs, 1, 1],
              let weightCount = product(weightShape), weightCount <= params.values.count,
              params.values.count - weightCount == (useBias ? outputs : 0), !useBias || product(biasShape) == outputs else {
            throw error("fc record is inconsistent: \(inputs) → \(outputs), weights \(weightShape), \(params.values.count) parameters", at: start)
        }
        return DlibFullyConnected(outputs: outputs, inputs: inputs, weights: Array(params.values[..<weightCount]),
                                  biases: useBias ? Array(params.values[weightCount...]) : nil)
    }
}

/// The product of dimensions, or nil when it overflows.
func product(_ dims: [Int]) -> Int? {
    var n = 1
    for d in dims {
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}

/// A string from the file, shortened and stripped of control characters for an error message.
func printable(_ s: String) -> String {
    let cleaned = String(s.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    return cleaned.count > 40 ? String(cleaned.prefix(40)) + "…" : cleaned
}
