import Foundation
import FrameModel
@testable import ImageIO

/// Deterministic test pictures: smooth gradients plus a hard edge, in any pixel format.
enum TestImages {
    /// `smooth` leaves out the hard checkerboard edges (for judging lossy codecs by PSNR).
    static func pattern(width: Int, height: Int, format: PixelFormat, seed: Int = 0, smooth: Bool = false) -> Image {
        var samples = [Float]()
        samples.reserveCapacity(width * height * format.channels)
        for y in 0..<height {
            for x in 0..<width {
                let r = Float(x) / Float(max(1, width - 1)), g = Float(y) / Float(max(1, height - 1))
                let b: Float = smooth ? 0.5 + 0.4 * sin(Float(x + y) / 9) : ((x / 7 + y / 5 + seed) % 2 == 0 ? 0.85 : 0.15)
                let a: Float = smooth ? 0.5 + 0.5 * r : Float((x * 3 + y) % 256) / 255
                let values: [Float]
                switch format.channels {
                case 1: values = [0.5 * r + 0.5 * g]
                case 2: values = [0.5 * r + 0.5 * g, a]
                case 3: values = [r, g, b]
                default: values = [r, g, b, a]
                }
                samples += values
            }
        }
        return Image(width: width, height: height, format: format, floatSamples: samples)
    }

    /// Peak signal-to-noise ratio of two 8-bit images of the same size and format, in dB.
    static func psnr(_ a: Image, _ b: Image) -> Double {
        precondition(a.bytes.count == b.bytes.count)
        var sum = 0.0
        for i in a.bytes.indices {
            let d = Double(a.bytes[i]) - Double(b.bytes[i])
            sum += d * d
        }
        let mse = sum / Double(a.bytes.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/../shared/corpus"

    static func corpusFile(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: corpus + "/" + relative)))
    }

    /// A minimal little-endian TIFF/EXIF block holding only an orientation tag.
    static func exif(orientation: Int) -> [UInt8] {
        [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,   // "II", 42, IFD0 at 8
         0x01, 0x00,                                        // one entry
         0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,   // tag 0x0112, SHORT, count 1
         UInt8(orientation), 0x00, 0x00, 0x00,
         0x00, 0x00, 0x00, 0x00]                            // no next IFD
    }

    /// Runs a command-line tool (exiftool, convert, python3); returns stdout.
    @discardableResult
    static func tool(_ name: String, _ args: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [name] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ImageError("\(name) \(args.joined(separator: " ")) exited with \(p.terminationStatus)")
        }
        return data
    }

    static func tempPath(_ ext: String) -> String {
        NSTemporaryDirectory() + "cnnpipe-\(UUID().uuidString).\(ext)"
    }
}
