import CNNPipeABI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Builds the C descriptor for a plugin made of Swift stages. A plugin's entry point is:
///
///     @_cdecl("cnnpipe_plugin_entry")
///     public func cnnpipeEntry(_ abi: UInt32) -> UnsafeRawPointer? {
///         PluginDescriptor.entry(abi, name: "basics", version: "1.0", stages: [Resize.self, ...])
///     }
///
/// The descriptor lives for the life of the process (plugins are never unloaded).
///
/// `onHost` is called with the host before each stage instance is made: a plugin connects its
/// copies of shared libraries to the host there (the CNN runtime's thread lender, say).
public enum PluginDescriptor {
    nonisolated(unsafe) private static var built: UnsafeMutablePointer<cp_plugin_desc>?
    nonisolated(unsafe) private static var stageTypes: [any Stage.Type] = []
    nonisolated(unsafe) private static var onHost: (@Sendable (StageHost) -> Void)?
    private static let lock = Mutex<Void>(())

    public static func entry(_ hostABI: UInt32, name: String, version: String, stages: [any Stage.Type],
                             onHost: (@Sendable (StageHost) -> Void)? = nil) -> UnsafeRawPointer? {
        guard hostABI == CNNPIPE_ABI_VERSION else { return nil }
        lock.withLock { _ in
            guard built == nil else { return }
            stageTypes = stages
            self.onHost = onHost
            let descs = UnsafeMutablePointer<cp_stage_desc>.allocate(capacity: stages.count)
            for (i, type) in stages.enumerated() { descs[i] = describe(type, index: i) }
            let plugin = UnsafeMutablePointer<cp_plugin_desc>.allocate(capacity: 1)
            plugin.pointee = cp_plugin_desc(
                struct_size: UInt32(MemoryLayout<cp_plugin_desc>.size), abi_version: CNNPIPE_ABI_VERSION,
                name: cString(name), version: cString(version), n_stages: UInt32(stages.count),
                stages: UnsafePointer(descs))
            built = plugin
        }
        return UnsafeRawPointer(built!)     // set once under the lock, never changed
    }

    private static func describe(_ type: any Stage.Type, index: Int) -> cp_stage_desc {
        let params = UnsafeMutablePointer<cp_param_desc>.allocate(capacity: max(1, type.parameters.count))
        for (i, p) in type.parameters.enumerated() {
            params[i] = cp_param_desc(
                struct_size: UInt32(MemoryLayout<cp_param_desc>.size), name: cString(p.name), type: p.kind.rawValue,
                default_value: p.defaultValue.map(cString), has_range: p.range == nil ? 0 : 1,
                min: p.range?.lowerBound ?? 0, max: p.range?.upperBound ?? 0,
                choices: p.choices.isEmpty ? nil : cString(p.choices.joined(separator: "|")), doc: cString(p.doc),
                flags: (p.statefulUnlessDefault ? UInt32(CP_PARAM_STATEFUL_UNLESS_DEFAULT) : 0)
                    | (p.isFilePath ? UInt32(CP_PARAM_FILE_PATH) : 0))
        }
        let formats = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, type.acceptedFormats.count))
        for (i, f) in type.acceptedFormats.enumerated() { formats[i] = f.rawValue }
        return cp_stage_desc(
            struct_size: UInt32(MemoryLayout<cp_stage_desc>.size), name: cString(type.name),
            summary: cString(type.summary), flags: type.options.rawValue,
            n_params: UInt32(type.parameters.count), params: UnsafePointer(params),
            n_inputs: UInt32(type.inputs.count), input_pads: cStringArray(type.inputs),
            n_outputs: UInt32(type.outputs.count), output_pads: cStringArray(type.outputs),
            create: createThunk, process: processThunk, finish: finishThunk, destroy: destroyThunk,
            user_data: UnsafeMutableRawPointer(bitPattern: index + 1),
            n_formats: UInt32(type.acceptedFormats.count), formats: UnsafePointer(formats))
    }

    private static func cString(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(s)!) }

    private static func cStringArray(_ list: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(1, list.count))
        for (i, s) in list.enumerated() { array[i] = cString(s) }
        return UnsafePointer(array)
    }

    /// The Swift stage object and the host table it was created with.
    final class Instance {
        let stage: any Stage
        let host: UnsafePointer<cp_host>
        init(stage: any Stage, host: UnsafePointer<cp_host>) { self.stage = stage; self.host = host }
    }

    private static let createThunk: @convention(c) (
        UnsafePointer<cp_stage_desc>?, UnsafePointer<cp_host>?, UnsafePointer<UnsafePointer<CChar>?>?,
        UnsafeMutablePointer<CChar>?, Int
    ) -> UnsafeMutableRawPointer? = { desc, host, values, errorBuffer, capacity in
        guard let desc, let host, let slot = desc.pointee.user_data.map({ Int(bitPattern: $0) - 1 }),
              slot >= 0, slot < PluginDescriptor.stageTypes.count else { return nil }
        let type = PluginDescriptor.stageTypes[slot]
        var dict = [String: String]()
        for (i, p) in type.parameters.enumerated() {
            if let v = values?[i] { dict[p.name] = String(cString: v) }
        }
        do {
            let stageHost = StageHost(raw: host, stageName: type.name)
            PluginDescriptor.onHost?(stageHost)
            let stage = try type.init(ParameterValues(dict), host: stageHost)
            return Unmanaged.passRetained(Instance(stage: stage, host: host)).toOpaque()
        } catch {
            writeError("\(error)", to: (errorBuffer, capacity))
            return nil
        }
    }

    private static let processThunk: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<cp_call>?) -> Int32 = {
        instance, call in
        guard let instance, let call else { return -1 }
        let box = Unmanaged<Instance>.fromOpaque(instance).takeUnretainedValue()
        let c = call.pointee
        let frames = (0..<Int(c.n_inputs)).compactMap { c.inputs[$0].map(Frame.init(raw:)) }
        return PluginDescriptor.run(call) { try box.stage.process(frames, Output(call: call, host: box.host)) }
    }

    private static let finishThunk: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<cp_call>?) -> Int32 = {
        instance, call in
        guard let instance, let call else { return -1 }
        let box = Unmanaged<Instance>.fromOpaque(instance).takeUnretainedValue()
        return PluginDescriptor.run(call) { try box.stage.finish(Output(call: call, host: box.host)) }
    }

    private static let destroyThunk: @convention(c) (UnsafeMutableRawPointer?) -> Void = { instance in
        guard let instance else { return }
        Unmanaged<Instance>.fromOpaque(instance).release()
    }

    private static func run(_ call: UnsafeMutablePointer<cp_call>, _ body: () throws -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch {
            writeError("\(error)", to: (call.pointee.error, call.pointee.error_capacity))
            return -1
        }
    }

    private static func writeError(_ message: String, to target: (UnsafeMutablePointer<CChar>?, Int)) {
        guard let buffer = target.0, target.1 > 0 else { return }
        let oneLine = message.replacingNewlines()
        let bytes = Array(oneLine.utf8.prefix(target.1 - 1))
        for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
        buffer[bytes.count] = 0
    }
}

extension String {
    func replacingNewlines() -> String { split(whereSeparator: \.isNewline).joined(separator: " ") }
}

