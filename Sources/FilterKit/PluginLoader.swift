import CNNPipeABI
import FrameModel
#if canImport(Glibc)
import Glibc
#endif

/// Finds plugin shared objects in trusted folders, loads them with dlopen and reads their
/// stage declarations. Search order: $CNNPIPE_PLUGIN_PATH (colon-separated), then
/// <exe>/../lib/cnnpipe/plugins, then the executable's own folder. Never the current directory.
public struct PluginLoader {
    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    public private(set) var stages: [String: StageDefinition] = [:]
    public private(set) var loadedFiles: [String] = []
    /// Problems with individual plugin files; the others still load.
    public private(set) var problems: [String] = []

    public init() {}

    public static func defaultSearchPath(environment: [String: String]) -> [String] {
        var dirs: [String] = []
        if let env = environment["CNNPIPE_PLUGIN_PATH"] {
            dirs += env.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        if let exe = executableDirectory() {
            dirs.append(exe + "/../lib/cnnpipe/plugins")
            dirs.append(exe)
        }
        return dirs
    }

    /// Loads every `*.so` plugin in the folders (files without the entry point are skipped quietly).
    public mutating func loadAll(from directories: [String]) {
        var seen = Set<String>()
        for dir in directories {
            guard let real = realpath(dir, nil) else { continue }
            let folder = String(cString: real)
            free(real)
            for file in Self.listSharedObjects(folder) where !seen.contains(file) {
                seen.insert(file)
                do { try load(file: folder + "/" + file, quietIfNotAPlugin: true) } catch {
                    problems.append("\(error)")
                }
            }
        }
    }

    /// Loads one plugin file. Throws with a message naming the file when it is not usable.
    public mutating func load(file path: String, quietIfNotAPlugin: Bool = false) throws {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw LoadError(description: "\(path): cannot load plugin: \(String(cString: dlerror()))")
        }
        // Never dlclose: Swift plugins cannot be unloaded safely.
        guard let symbol = dlsym(handle, CNNPIPE_PLUGIN_ENTRY) else {
            if quietIfNotAPlugin { return }
            throw LoadError(description: "\(path): not a cnnpipe plugin (no \(CNNPIPE_PLUGIN_ENTRY) symbol)")
        }
        let entry = unsafeBitCast(symbol, to: cp_plugin_entry_fn.self)
        guard let plugin = entry(CNNPIPE_ABI_VERSION) else {
            throw LoadError(description: "\(path): plugin refused host ABI version \(CNNPIPE_ABI_VERSION) (rebuild it against this cnnpipe)")
        }
        let p = plugin.pointee
        guard p.struct_size >= MemoryLayout<cp_plugin_desc>.size, p.abi_version == CNNPIPE_ABI_VERSION else {
            throw LoadError(description: "\(path): plugin built for ABI version \(p.abi_version), this cnnpipe speaks \(CNNPIPE_ABI_VERSION); rebuild the plugin")
        }
        let pluginName = p.name.map { String(cString: $0) } ?? path
        for i in 0..<Int(p.n_stages) {
            let desc = p.stages + i
            guard desc.pointee.struct_size >= MemoryLayout<cp_stage_desc>.size else {
                throw LoadError(description: "\(path): stage \(i) has a truncated descriptor")
            }
            let def = try Self.definition(desc, plugin: pluginName, file: path)
            if let existing = stages[def.name] {
                problems.append("\(path): stage '\(def.name)' already provided by \(existing.pluginFile); keeping the first")
                continue
            }
            stages[def.name] = def
        }
        loadedFiles.append(path)
    }

    private static func definition(_ d: UnsafePointer<cp_stage_desc>, plugin: String, file: String) throws -> StageDefinition {
        let s = d.pointee
        func str(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
        guard s.create != nil, s.process != nil, s.destroy != nil, let name = s.name.map({ String(cString: $0) }) else {
            throw LoadError(description: "\(file): a stage lacks a name or create/process/destroy")
        }
        var params: [StageDefinition.Param] = []
        for i in 0..<Int(s.n_params) {
            let p = s.params[i]
            guard let kind = Self.kinds[p.type] else {
                throw LoadError(description: "\(file): stage \(name) parameter \(str(p.name)) has unknown type \(p.type)")
            }
            params.append(.init(name: str(p.name), kind: kind, defaultValue: p.default_value.map { String(cString: $0) },
                                range: p.has_range != 0 ? p.min...p.max : nil,
                                choices: p.choices.map { String(cString: $0).split(separator: "|").map(String.init) } ?? [],
                                doc: str(p.doc)))
        }
        let inputs = (0..<Int(s.n_inputs)).map { str(s.input_pads[$0]) }
        let outputs = (0..<Int(s.n_outputs)).map { str(s.output_pads[$0]) }
        return StageDefinition(
            name: name, summary: str(s.summary), params: params, inputs: inputs, outputs: outputs,
            isStateless: s.flags & UInt32(CP_STAGE_STATELESS) != 0,
            hasVariadicInputs: s.flags & UInt32(CP_STAGE_VARIADIC_INPUTS) != 0,
            isAggregator: s.flags & UInt32(CP_STAGE_AGGREGATOR) != 0,
            acceptedFormats: try (0..<Int(s.n_formats)).map { i in
                guard let f = PixelFormat(rawValue: s.formats[i]) else {
                    throw LoadError(description: "\(file): stage \(name) accepts unknown pixel format \(s.formats[i])")
                }
                return f
            },
            pluginName: plugin, pluginFile: file, desc: d)
    }

    private static let kinds: [Int32: StageDefinition.Param.Kind] = [
        1: .int, 2: .float, 3: .bool, 4: .string, 5: .choice,
    ]

    private static func listSharedObjects(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasSuffix(".so") { names.append(name) }
        }
        return names.sorted()
    }

    static func executableDirectory() -> String? {
        guard let real = realpath("/proc/self/exe", nil) else { return nil }
        defer { free(real) }
        let path = String(cString: real)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
