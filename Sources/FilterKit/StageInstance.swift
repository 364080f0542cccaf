import CNNPipeABI
import FrameModel
#if canImport(Glibc)
import Glibc
#endif

/// One created instance of a plugin stage, driven through the C ABI.
final class StageInstance {
    let definition: StageDefinition
    private let instance: UnsafeMutableRawPointer
    private let host: HostServices

    /// `values` must be validated and complete, in the order of `definition.params`.
    init(_ definition: StageDefinition, values: [String], host: HostServices) throws {
        self.definition = definition
        self.host = host
        let cStrings = values.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var error = [CChar](repeating: 0, count: 512)
        let pointers = cStrings.map { UnsafePointer($0) }
        let created = pointers.withUnsafeBufferPointer { p in
            error.withUnsafeMutableBufferPointer { e in
                definition.desc.pointee.create(definition.desc, host.table, p.baseAddress, e.baseAddress, e.count)
            }
        }
        guard let created else {
            let message = String(cString: error)
            throw ValueError(message.isEmpty ? "could not be created" : message)
        }
        instance = created
    }

    deinit { definition.desc.pointee.destroy(instance) }

    /// Runs process() on one frame per input pad; returns the frames emitted on each output pad.
    /// `turn` answers the stage's await_turn (stateful stages): wait for the earlier images but
    /// the last `lag`, then return this image's position.
    func process(_ inputs: [HostFrame], turn: ((Int) -> Int)? = nil) throws -> [[HostFrame]] {
        try call(inputs, turn: turn) { definition.desc.pointee.process(instance, $0) }
    }

    func finish() throws -> [[HostFrame]] {
        guard let finish = definition.desc.pointee.finish else { return Array(repeating: [], count: definition.outputs.count) }
        return try call([]) { finish(instance, $0) }
    }

    private func call(_ inputs: [HostFrame], turn: ((Int) -> Int)? = nil,
                      _ body: (UnsafeMutablePointer<cp_call>) -> Int32) throws -> [[HostFrame]] {
        let sink = EmitSink(pads: definition.outputs.count, turn: turn)
        var error = [CChar](repeating: 0, count: 512)
        let status = error.withUnsafeMutableBufferPointer { e -> Int32 in
            let frames: [UnsafePointer<cp_frame>?] = inputs.map { UnsafePointer($0.raw) }
            return frames.withUnsafeBufferPointer { f in
                var c = cp_call(struct_size: UInt32(MemoryLayout<cp_call>.size),
                                call_data: Unmanaged.passUnretained(sink).toOpaque(), n_inputs: UInt32(inputs.count),
                                inputs: f.baseAddress, emit: emitThunk, error: e.baseAddress, error_capacity: e.count,
                                await_turn: turn == nil ? nil : awaitTurnThunk)
                return withExtendedLifetime(inputs) { body(&c) }
            }
        }
        if status != 0 {
            let message = String(cString: error)
            throw ValueError(message.isEmpty ? "failed" : message)
        }
        return sink.frames
    }
}

/// Collects what a stage emits during one call, and answers its await_turn.
private final class EmitSink {
    var frames: [[HostFrame]]
    let turn: ((Int) -> Int)?
    init(pads: Int, turn: ((Int) -> Int)?) {
        frames = Array(repeating: [], count: pads)
        self.turn = turn
    }
}

private let awaitTurnThunk: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int64 = { data, lag in
    guard let data, let turn = Unmanaged<EmitSink>.fromOpaque(data).takeUnretainedValue().turn else { return -1 }
    return Int64(turn(max(0, Int(lag))))
}

private let emitThunk: @convention(c) (UnsafeMutableRawPointer?, UInt32, UnsafePointer<cp_frame>?) -> Int32 = {
    data, pad, raw in
    guard let data, let raw, let frame = HostFrame.from(raw) else { return -1 }
    let sink = Unmanaged<EmitSink>.fromOpaque(data).takeUnretainedValue()
    guard Int(pad) < sink.frames.count else { return -1 }
    sink.frames[Int(pad)].append(frame)
    if frame.ownedByPlugin {          // a frame from frame_new/frame_derive: take over the plugin's reference
        frame.ownedByPlugin = false
        Unmanaged.passUnretained(frame).release()
    }
    return 0
}
