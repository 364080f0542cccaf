import CNNPipeABI
import FilterKit
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

/// Plugin descriptors as a hostile plugin could return them: counts, NULL tables and strings,
/// unterminated names, odd struct sizes. The harness only ever lies where the host can check
/// (a count above the limits comes with a missing or short table; strings are bounded by their
/// buffers); within the limits, tables are as long as their counts, as C requires.
struct Cursor {
    var bytes: [UInt8], at = 0
    mutating func byte() -> UInt8 { defer { at += 1 }; return at < bytes.count ? bytes[at] : 0 }
    mutating func u32() -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(byte()) << (8 * $1) } }
    mutating func double() -> Double { Double(bitPattern: (0..<8).reduce(0) { $0 | UInt64(byte()) << (8 * UInt64($1)) }) }
}

final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []
    func alloc<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: MemoryLayout<T>.alignment)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, count) * MemoryLayout<T>.stride)
        blocks.append(p)
        return p.assumingMemoryBound(to: T.self)
    }
    deinit { blocks.forEach { $0.deallocate() } }

    /// NULL, a short string, an empty one, or 5000 bytes without a terminator.
    func string(_ c: inout Cursor) -> UnsafePointer<CChar>? {
        switch c.byte() % 4 {
        case 0: return nil
        case 1:
            let n = Int(c.byte() % 12)
            let p = alloc(CChar.self, n + 1)
            for i in 0..<n { p[i] = CChar(bitPattern: c.byte() % 95 + 32) }
            return UnsafePointer(p)
        case 2: return UnsafePointer(alloc(CChar.self, 1))
        default:
            let p = alloc(CChar.self, 5000)
            for i in 0..<5000 { p[i] = 0x61 }
            return UnsafePointer(p)
        }
    }

    /// A table of `count` elements, or for a count beyond `limit` a missing or one-element table.
    func table<T>(_ type: T.Type, count: inout UInt32, limit: Int, _ c: inout Cursor) -> UnsafeMutablePointer<T>? {
        if Int(count) > limit { return c.byte() & 1 == 0 ? nil : alloc(T.self, 1) }
        count %= 5
        if count == 0 && c.byte() & 1 == 0 { return nil }
        return alloc(T.self, Int(count))
    }
}

private let create: @convention(c) (UnsafePointer<cp_stage_desc>?, UnsafePointer<cp_host>?, UnsafePointer<UnsafePointer<CChar>?>?,
                                    UnsafeMutablePointer<CChar>?, Int) -> UnsafeMutableRawPointer? = { _, _, _, _, _ in nil }
private let process: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<cp_call>?) -> Int32 = { _, _ in 0 }
private let destroy: @convention(c) (UnsafeMutableRawPointer?) -> Void = { _ in }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var c = Cursor(bytes: Fuzz.bytes(data, size))
    let arena = Arena()
    let plugin = arena.alloc(cp_plugin_desc.self, 1)
    let sizes = [UInt32(MemoryLayout<cp_plugin_desc>.size), 8, 0, 1 << 20]
    plugin.pointee.struct_size = sizes[Int(c.byte() % 4)]
    plugin.pointee.abi_version = c.byte() % 8 == 0 ? c.u32() : CNNPIPE_ABI_VERSION
    plugin.pointee.name = arena.string(&c)
    plugin.pointee.version = arena.string(&c)
    var nStages = c.byte() % 2 == 0 ? UInt32(c.byte()) : c.u32()
    let stages = arena.table(cp_stage_desc.self, count: &nStages, limit: 1024, &c)
    plugin.pointee.n_stages = nStages
    plugin.pointee.stages = UnsafePointer(stages)
    if let stages, nStages <= 1024 {
        for i in 0..<Int(nStages) {
            var s = cp_stage_desc()
            s.struct_size = c.byte() % 5 == 0 ? c.u32() : UInt32(MemoryLayout<cp_stage_desc>.size)
            s.name = arena.string(&c)
            s.summary = arena.string(&c)
            s.flags = c.u32()
            let fns = c.byte()
            s.create = fns & 1 == 0 ? create : nil
            s.process = fns & 2 == 0 ? process : nil
            s.destroy = fns & 4 == 0 ? destroy : nil
            var nParams = c.byte() % 3 == 0 ? c.u32() : UInt32(c.byte())
            let params = arena.table(cp_param_desc.self, count: &nParams, limit: 256, &c)
            s.n_params = nParams
            s.params = UnsafePointer(params)
            if let params, nParams <= 256 {
                for j in 0..<Int(nParams) {
                    params[j].struct_size = c.byte() % 6 == 0 ? 4 : UInt32(MemoryLayout<cp_param_desc>.size)
                    params[j].name = arena.string(&c)
                    params[j].type = Int32(c.byte() % 7)
                    params[j].default_value = arena.string(&c)
                    params[j].has_range = Int32(c.byte() % 2)
                    params[j].min = c.double()
                    params[j].max = c.double()
                    params[j].choices = arena.string(&c)
                    params[j].doc = arena.string(&c)
                }
            }
            for pads in 0..<2 {
                var n = c.byte() % 3 == 0 ? c.u32() : UInt32(c.byte())
                let table = arena.table(UnsafePointer<CChar>?.self, count: &n, limit: 64, &c)
                if let table, n <= 64 { for k in 0..<Int(n) { table[k] = arena.string(&c) } }
                if pads == 0 { s.n_inputs = n; s.input_pads = UnsafePointer(table) } else { s.n_outputs = n; s.output_pads = UnsafePointer(table) }
            }
            var nFormats = c.byte() % 3 == 0 ? c.u32() : UInt32(c.byte())
            let formats = arena.table(Int32.self, count: &nFormats, limit: 64, &c)
            if let formats, nFormats <= 64 { for k in 0..<Int(nFormats) { formats[k] = Int32(c.byte() % 16) } }
            s.n_formats = nFormats
            s.formats = UnsafePointer(formats)
            stages[i] = s
        }
    }
    _ = try? PluginLoader.definitions(UnsafePointer(plugin), file: "fuzz.so")
    return 0
}
