import Foundation

/// The loss record at the top of a dlib network file (dlib-format.md §4.9–4.10).
public enum DlibLoss: Sendable, Equatable {
    /// loss_metric: the net's output is the descriptor; same identity when the distance < threshold.
    case metric(margin: Float, distanceThreshold: Float)
    /// loss_mmod: a detector scoring sliding windows over an image pyramid.
    case mmod(DlibDetectorOptions)
}

public struct DlibDetectorOptions: Sendable, Equatable {
    public struct Window: Sendable, Equatable {
        public var width: Int, height: Int
    }
    /// Detector windows; the face detector has one, 80×80.
    public var windows: [Window]
    public var lossPerFalseAlarm: Float, lossPerMissedTarget: Float, truthMatchIoU: Float
    /// Non-maximum suppression: two boxes overlap when intersection / (smallest box containing
    /// both) exceeds `nmsIoU`, or intersection / either box's area exceeds `nmsCovered`.
    public var nmsIoU: Float, nmsCovered: Float
    public var ignoreIoU: Float, ignoreCovered: Float
    public var assumesImagePyramid: Bool
    public var usesBoxRegression: Bool
}

/// The input layer record (§4.11). Both kinds normalise pixels as (value − mean[channel]) / 256, RGB planes.
public enum DlibInputLayer: Sendable, Equatable {
    /// input_rgb_image_sized<rows, columns>: a fixed-size chip.
    case sizedImage(mean: [Float], rows: Int, columns: Int)
    /// input_rgb_image_pyramid: every pyramid level tiled into one image, levels `padding` apart and
    /// `outerPadding` from the border.
    case imagePyramid(mean: [Float], padding: Int, outerPadding: Int)

    public var mean: [Float] {
        switch self {
        case .sizedImage(let m, _, _), .imagePyramid(let m, _, _): m
        }
    }
}

/// A dlib DNN file as stored: the loss, then the layers under it top-down (layer 1 is just under the
/// loss), then the input layer. Tag and skip layers are only "a tag or skip is here" (§3).
struct DlibNetworkFile {
    enum Layer {
        case tagOrSkip
        case computational(DlibLayerRecord)
    }

    let loss: DlibLoss
    let layers: [Layer]           // top-down
    let input: DlibInputLayer

    /// Parses the whole stream (§2): loss record, descending header ints, input record, the
    /// bottom-most layer's details, then the remaining details bottom-up. Trailing bytes are an error.
    init(bytes: [UInt8]) throws {
        var r = DlibReader(bytes)
        try r.expectInt(1, "loss layer version")
        loss = try r.lossRecord()
        var headers: [(version: Int, offset: Int)] = []
        while true {
            let at = r.offset
            headers.append((try r.int("layer \(headers.count + 1) header"), at))
            if r.peekString(prefix: "input") != nil { break }
        }
        input = try r.inputRecord()

        var records = [Layer?](repeating: nil, count: headers.count)
        let bottom = headers.count - 1
        guard headers[bottom].version == 3 else {
            throw r.error("layer \(bottom + 1) (the one holding the input) has header \(headers[bottom].version); "
                + "only a computational layer (version 3) is supported there", at: headers[bottom].offset)
        }
        records[bottom] = .computational(try r.layerWithTrainingState(index: bottom + 1, holdsInput: true))
        for i in stride(from: bottom - 1, through: 0, by: -1) {
            switch headers[i].version {
            case 2: records[i] = .computational(try r.layerWithTrainingState(index: i + 1, holdsInput: false))
            case 1: records[i] = .tagOrSkip
            default:
                throw r.error("layer \(i + 1) has header \(headers[i].version) (expected 2 for a computational layer, "
                    + "1 for a tag or skip)", at: headers[i].offset)
            }
        }
        guard r.isAtEnd else { throw r.error("\(r.remaining) unexpected bytes after the last layer") }
        layers = records.map { $0! }
    }
}

extension DlibReader {
    /// A computational layer's details plus the training state dlib stores after it (3 bools and
    /// 3 tensors, all unused at inference; the input-holding layer adds sample_expansion_factor).
    mutating func layerWithTrainingState(index: Int, holdsInput: Bool) throws -> DlibLayerRecord {
        let record: DlibLayerRecord
        do { record = try layerRecord() } catch let e as ModelError { throw ModelError("layer \(index): \(e.description)") }
        for name in ["setup_called", "gradient_input_is_stale", "output_and_gradient_disabled"] {
            _ = try bool("layer \(index) \(name)")
        }
        for name in holdsInput ? ["x_grad", "cached_output", "grad_final"] : ["x_grad", "cached_output", "params_grad"] {
            _ = try tensor("layer \(index) \(name)")
        }
        if holdsInput { _ = try count("layer \(index) sample_expansion_factor") }
        return record
    }

    mutating func lossRecord() throws -> DlibLoss {
        let start = offset
        let version = try string("loss type")
        switch version {
        case "loss_metric_": return .metric(margin: 0.1, distanceThreshold: 0.75)
        case "loss_metric_2": return .metric(margin: try float("loss margin"), distanceThreshold: try float("loss dist_thresh"))
        case "loss_mmod_": return .mmod(try detectorOptions())
        default: throw error("loss type '\(printable(version))' is not supported (expected loss_metric or loss_mmod)", at: start)
        }
    }

    private mutating func detectorOptions() throws -> DlibDetectorOptions {
        let start = offset
        let version = try int("mmod_options version")
        guard (1...4).contains(version) else { throw error("mmod_options version \(version) is not supported", at: start) }
        var windows: [DlibDetectorOptions.Window] = []
        if version == 1 {
            windows = [.init(width: try count("detector window width"), height: try count("detector window height"))]
        } else {
            // Each window: version int (1 or 2), width, height, [v2: label string]; at least 5 bytes.
            for _ in 0..<(try elementCount("detector windows", minimumElementBytes: 6)) {
                let windowStart = offset
                let windowVersion = try int("detector window version")
                guard windowVersion == 1 || windowVersion == 2 else {
                    throw error("detector window version \(windowVersion) is not supported", at: windowStart)
                }
                windows.append(.init(width: try count("detector window width"), height: try count("detector window height")))
                if windowVersion == 2 { _ = try string("detector window label") }
            }
        }
        var o = DlibDetectorOptions(windows: windows, lossPerFalseAlarm: try float("loss_per_false_alarm"),
                                    lossPerMissedTarget: try float("loss_per_missed_target"),
                                    truthMatchIoU: try float("truth_match_iou_threshold"),
                                    nmsIoU: try float("overlaps_nms iou"), nmsCovered: try float("overlaps_nms covered"),
                                    ignoreIoU: try float("overlaps_ignore iou"), ignoreCovered: try float("overlaps_ignore covered"),
                                    assumesImagePyramid: true, usesBoxRegression: false)
        if version >= 3 { o.assumesImagePyramid = try byte("assume_image_pyramid") != 0 }
        if version >= 4 {
            o.usesBoxRegression = try bool("use_bounding_box_regression")
            _ = try double("bbr_lambda")
        }
        guard !windows.isEmpty, windows.allSatisfy({ $0.width > 0 && $0.height > 0 }) else {
            throw error("mmod_options has no usable detector window", at: start)
        }
        return o
    }

    mutating func inputRecord() throws -> DlibInputLayer {
        let start = offset
        let version = try string("input layer type")
        func mean() throws -> [Float] { [try float("avg_red"), try float("avg_green"), try float("avg_blue")] }
        switch version {
        case "input_rgb_image_sized":
            let m = try mean()
            let rows = try count("input rows"), columns = try count("input columns")
            guard rows > 0, columns > 0 else { throw error("input size \(rows)×\(columns) is empty", at: start) }
            return .sizedImage(mean: m, rows: rows, columns: columns)
        case "input_rgb_image_pyramid": return .imagePyramid(mean: try mean(), padding: 10, outerPadding: 11)
        case "input_rgb_image_pyramid2":
            return .imagePyramid(mean: try mean(), padding: try count("pyramid_padding"),
                                 outerPadding: try count("pyramid_outer_padding"))
        default: throw error("input layer '\(printable(version))' is not supported", at: start)
        }
    }
}
