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
    /// Relative folders are ignored with a warning: plugins never load from the current directory.
    public mutating func loadAll(from directories: [String]) {
        var seen = Set<String>()
        for dir in directories {
            guard dir.hasPrefix("/") else {
                problems.append("plugin folder '\(dir)' is relative (from CNNPIPE_PLUGIN_PATH); ignored: give absolute folders")
                continue
            }
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
        for def in try Self.definitions(plugin, file: path) {
            if let existing = stages[def.name] {
                problems.append("\(path): stage '\(def.name)' already provided by \(existing.pluginFile); keeping the first")
                continue
            }
            stages[def.name] = def
        }
        loadedFiles.append(path)
    }

    /// Limits on what a descriptor may declare: far above any real plugin, low enough that a
    /// corrupt count is caught before the host walks memory that is not there.
    static let maximumStages = 1024, maximumParams = 256, maximumPads = 64, maximumFormats = 64, maximumString = 4096

    /// The stages a plugin descriptor declares, every count, pointer and string checked first.
    public static func definitions(_ plugin: UnsafePointer<cp_plugin_desc>, file path: String) throws -> [StageDefinition] {
        func fail(_ message: String) -> LoadError { LoadError(description: "\(path): \(message)") }
        let p = plugin.pointee
        guard p.abi_version == CNNPIPE_ABI_VERSION else {
            throw fail("plugin built for ABI version \(p.abi_version), this cnnpipe speaks \(CNNPIPE_ABI_VERSION); rebuild the plugin")
        }
        guard p.struct_size >= MemoryLayout<cp_plugin_desc>.size else {
            throw fail("plugin descriptor is \(p.struct_size) bytes, smaller than the \(MemoryLayout<cp_plugin_desc>.size) of ABI version "
                       + "\(CNNPIPE_ABI_VERSION) (a truncated or corrupt descriptor); rebuild the plugin")
        }
        guard p.n_stages <= maximumStages else { throw fail("plugin declares \(p.n_stages) stages (at most \(maximumStages))") }
        guard p.n_stages == 0 || p.stages != nil else { throw fail("plugin declares \(p.n_stages) stages but no stage table") }
        let pluginName = try text(p.name, "plugin name", path) ?? path
        _ = try text(p.version, "plugin version", path)
        return try (0..<Int(p.n_stages)).map { i in
            let desc = p.stages + i
            guard desc.pointee.struct_size >= MemoryLayout<cp_stage_desc>.size else { throw fail("stage \(i) has a truncated descriptor") }
            return try definition(desc, plugin: pluginName, file: path)
        }
    }

    /// A C string of bounded length (nil stays nil); a longer one is refused, not walked.
    private static func text(_ p: UnsafePointer<CChar>?, _ what: String, _ file: String) throws -> String? {
        guard let p else { return nil }
        let n = strnlen(p, maximumString)
        guard n < maximumString else { throw LoadError(description: "\(file): \(what) is longer than \(maximumString) bytes") }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    private static func definition(_ d: UnsafePointer<cp_stage_desc>, plugin: String, file: String) throws -> StageDefinition {
        let s = d.pointee
        func fail(_ message: String) -> LoadError { LoadError(description: "\(file): \(message)") }
        guard s.create != nil, s.process != nil, s.destroy != nil, let name = try text(s.name, "a stage name", file), !name.isEmpty else {
            throw fail("a stage lacks a name or create/process/destroy")
        }
        func str(_ p: UnsafePointer<CChar>?, _ what: String) throws -> String { try text(p, "stage \(name) \(what)", file) ?? "" }
        func table<T>(_ count: UInt32, _ pointer: UnsafePointer<T>?, _ what: String, limit: Int) throws -> UnsafePointer<T>? {
            guard count <= limit else { throw fail("stage \(name) declares \(count) \(what) (at most \(limit))") }
            guard count == 0 || pointer != nil else { throw fail("stage \(name) declares \(count) \(what) but no table") }
            return pointer
        }
        let paramTable = try table(s.n_params, s.params, "parameters", limit: maximumParams)
        let inputTable = try table(s.n_inputs, s.input_pads, "input pads", limit: maximumPads)
        let outputTable = try table(s.n_outputs, s.output_pads, "output pads", limit: maximumPads)
        let formatTable = try table(s.n_formats, s.formats, "pixel formats", limit: maximumFormats)
        var params: [StageDefinition.Param] = []
        // The table's stride is its entries' struct_size: a plugin built against an older header
        // (before `flags`) has shorter entries; what it lacks reads as zero.
        let paramStride = s.n_params > 0 ? Int(UnsafeRawPointer(paramTable!).load(as: UInt32.self)) : 0
        for i in 0..<Int(s.n_params) {
            let entry = UnsafeRawPointer(paramTable!) + i * paramStride
            guard paramStride >= MemoryLayout<cp_param_desc>.offset(of: \cp_param_desc.flags)!,
                  Int(entry.load(as: UInt32.self)) == paramStride else {
                throw fail("stage \(name) parameter \(i) has a truncated descriptor")
            }
            var p = cp_param_desc()
            withUnsafeMutableBytes(of: &p) {
                $0.copyMemory(from: UnsafeRawBufferPointer(start: entry, count: min(paramStride, MemoryLayout<cp_param_desc>.size)))
            }
            guard let paramName = try text(p.name, "stage \(name) parameter \(i) name", file), !paramName.isEmpty else {
                throw fail("stage \(name) parameter \(i) has no name")
            }
            if p.has_range != 0 && !(p.min.isFinite && p.max.isFinite && p.min <= p.max) {
                throw fail("stage \(name) parameter \(paramName) has the range \(p.min)...\(p.max)")
            }
            guard let kind = Self.kinds[p.type] else {
                throw LoadError(description: "\(file): stage \(name) parameter \(paramName) has unknown type \(p.type)")
            }
            params.append(.init(name: paramName, kind: kind, defaultValue: try text(p.default_value, "stage \(name) default", file),
                                range: p.has_range != 0 ? p.min...p.max : nil,
                                choices: try text(p.choices, "stage \(name) choices", file)?.split(separator: "|").map(String.init) ?? [],
                                doc: try str(p.doc, "parameter doc"),
                                statefulUnlessDefault: p.flags & UInt32(CP_PARAM_STATEFUL_UNLESS_DEFAULT) != 0,
                                isFilePath: p.flags & UInt32(CP_PARAM_FILE_PATH) != 0))
        }
        let inputs = try (0..<Int(s.n_inputs)).map { try str(inputTable![$0], "input pad name") }
        let outputs = try (0..<Int(s.n_outputs)).map { try str(outputTable![$0], "output pad name") }
        return StageDefinition(
            name: name, summary: try str(s.summary, "summary"), params: params, inputs: inputs, outputs: outputs,
            isStateless: s.flags & UInt32(CP_STAGE_STATELESS) != 0,
            hasVariadicInputs: s.flags & UInt32(CP_STAGE_VARIADIC_INPUTS) != 0,
            isAggregator: s.flags & UInt32(CP_STAGE_AGGREGATOR) != 0,
            isOverlapping: s.flags & UInt32(CP_STAGE_OVERLAPPING) != 0,
            acceptedFormats: try (0..<Int(s.n_formats)).map { i in
                guard let f = PixelFormat(rawValue: formatTable![i]) else {
                    throw LoadError(description: "\(file): stage \(name) accepts unknown pixel format \(formatTable![i])")
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
            // Only regular files (or links to them): opening a FIFO or a device named x.so would block or worse.
            var info = stat()
            if name.hasSuffix(".so"), stat(dir + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFREG { names.append(name) }
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
