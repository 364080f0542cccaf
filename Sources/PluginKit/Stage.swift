import FrameModel

/// A filter stage written in Swift. Declare the parameters first, then implement `process`.
/// PluginKit turns a list of stage types into the C plugin descriptor the host loads.
public protocol Stage: AnyObject {
    static var name: String { get }
    static var summary: String { get }
    static var parameters: [Parameter] { get }
    static var inputs: [String] { get }
    static var outputs: [String] { get }
    static var options: StageOptions { get }
    /// Pixel formats `process` accepts; empty = any. The host converts other frames.
    static var acceptedFormats: [PixelFormat] { get }

    init(_ parameters: ParameterValues, host: StageHost) throws

    /// One frame per input pad, in pad order. Emit results on `output`.
    func process(_ inputs: [Frame], _ output: Output) throws
    /// End of stream: aggregators emit their results here.
    func finish(_ output: Output) throws
}

public struct StageOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// No state between frames: the host may run instances in parallel.
    public static let stateless = StageOptions(rawValue: 1 << 0)
    /// Any number of connections to the single input pad.
    public static let variadicInputs = StageOptions(rawValue: 1 << 1)
    /// Emits its results at end of stream.
    public static let aggregator = StageOptions(rawValue: 1 << 2)
    /// When stateful: `process` for later frames may start before earlier ones have returned
    /// (other threads, the same instance). `process` must be thread-safe and call
    /// `Output.awaitTurn` before it touches the state frames share in stream order.
    public static let overlapping = StageOptions(rawValue: 1 << 3)
}

extension Stage {
    public static var inputs: [String] { ["in"] }
    public static var outputs: [String] { ["out"] }
    public static var options: StageOptions { [.stateless] }
    public static var acceptedFormats: [PixelFormat] { [] }
    public func finish(_ output: Output) throws {}
}

/// A stage's error: the host prints it as one line, prefixed with the stage and image.
public struct StageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
