import CNNRuntime
import Foundation

/// Loaded face models shared by every stage instance in a process: the host makes one instance of
/// a stateless stage per worker, and each loading its own detector, shape predictor and ResNet
/// would cost memory per worker for identical read-only weights. The models are safe to use from
/// several threads at once (a Session's runs share only its thread-safe buffer pool).
public enum SharedModels {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [String: AnyObject] = [:]

    public static func finder(detectorPath: String, landmarkPath: String?, threads: Int) throws -> FaceFinder {
        try shared("finder|\(detectorPath)|\(landmarkPath ?? "-")|\(threads)") {
            try FaceFinder(detectorPath: detectorPath, landmarkPath: landmarkPath, threads: threads)
        }
    }

    public static func embedder(modelPath: String, threads: Int) throws -> FaceEmbedder {
        try shared("embedder|\(modelPath)|\(threads)") { try FaceEmbedder(modelPath: modelPath, threads: threads) }
    }

    public static func shapePredictor(path: String) throws -> DlibShapePredictor {
        try shared("predictor|\(path)") { Box(try DlibShapePredictor.load(path: path)) }.value
    }

    private final class Box<T>: @unchecked Sendable {
        let value: T
        init(_ value: T) { self.value = value }
    }

    private static func shared<T: AnyObject>(_ key: String, _ make: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if let model = loaded[key] as? T { return model }
        let model = try make()
        loaded[key] = model
        return model
    }
}
