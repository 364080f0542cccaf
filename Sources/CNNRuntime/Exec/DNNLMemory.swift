import CDNNL
import Foundation

extension DNNL {
    /// How oneDNN may lay out activations and weights inside a convolution. `plain`: the runtime's own
    /// NCHW / OIHW, no reorders. `blocked`: the primitive picks (nChw16c and the like) and tensors are
    /// reordered at its boundary. `CNNPIPE_DNNL_LAYOUT=plain|blocked` chooses; tests may set it.
    enum Layout: String { case plain, blocked }

    nonisolated(unsafe) static var layout: Layout =
        ProcessInfo.processInfo.environment["CNNPIPE_DNNL_LAYOUT"].flatMap(Layout.init(rawValue:)) ?? .blocked

    /// A memory descriptor of `dims` in format `tag` (dnnl_format_tag_any lets a primitive choose).
    static func descriptor(_ lib: Library, _ dims: [Int], _ tag: dnnl_format_tag_t,
                           _ type: dnnl_data_type_t = dnnl_f32) throws -> dnnl_memory_desc_t {
        var desc = dnnl_memory_desc_t()
        let dims64 = dims.map(Int64.init)
        try check(lib.memoryDescInit(&desc, Int32(dims.count), dims64, type, tag), "memory_desc_init_by_tag \(dims)")
        return desc
    }

    /// Bytes a descriptor's memory takes, in floats (rounded up; bf16 memory fits in half as many).
    static func floatCount(_ lib: Library, _ desc: dnnl_memory_desc_t) -> Int {
        var d = desc
        return (lib.memoryDescSize(&d) + 3) / 4
    }

    static func same(_ lib: Library, _ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return lib.memoryDescEqual(&a, &b) != 0
    }

    /// A primitive and the primitive descriptor it came from; both destroyed with it.
    final class Primitive: @unchecked Sendable {
        let lib: Library
        let descriptor: dnnl_primitive_desc_t
        let handle: dnnl_primitive_t

        /// Takes ownership of `descriptor` (destroyed here also when primitive creation fails).
        init(_ lib: Library, descriptor: dnnl_primitive_desc_t) throws {
            self.lib = lib
            self.descriptor = descriptor
            var p: dnnl_primitive_t?
            let status = lib.primitiveCreate(&p, descriptor)
            guard status == dnnl_success, let p else {
                _ = lib.primitiveDescDestroy(descriptor)
                throw ModelError("oneDNN primitive_create failed (status \(status.rawValue))")
            }
            handle = p
        }

        /// The memory descriptor the primitive uses for `what` (src, weights, dst, scratchpad).
        func memoryDescriptor(_ what: dnnl_query_t) -> dnnl_memory_desc_t {
            lib.primitiveDescQueryMD(descriptor, what, 0)?.pointee ?? dnnl_memory_desc_t()
        }

        /// oneDNN's name for the implementation it picked ("brgconv:avx512_core", "ref:any", ...).
        var implementation: String {
            var name: UnsafePointer<CChar>?
            guard lib.primitiveDescQuery(descriptor, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return "?" }
            return String(cString: name)
        }

        deinit {
            _ = lib.primitiveDestroy(handle)
            _ = lib.primitiveDescDestroy(descriptor)
        }
    }

    /// A reorder between two layouts of the same tensor.
    static func reorder(_ lib: Library, from: dnnl_memory_desc_t, to: dnnl_memory_desc_t) throws -> Primitive {
        var from = from, to = to, pd: dnnl_primitive_desc_t?
        try check(lib.reorderDescCreate(&pd, &from, lib.engine, &to, lib.engine, nil), "reorder_primitive_desc_create")
        guard let pd else { throw ModelError("oneDNN reorder: no primitive descriptor") }
        return try Primitive(lib, descriptor: pd)
    }

    /// One execution's stream and memory objects around caller-owned buffers, released together.
    /// Streams are not shared between threads, so each execution makes its own (cheap on CPU).
    final class Execution {
        let lib: Library
        let stream: dnnl_stream_t
        private var memories: [dnnl_memory_t] = []
        /// Threads borrowed from the thread lender for this execution, given back when it ends.
        private let borrowed: Int
        /// The OpenMP threads it runs on (also set for primitives made while it is open).
        var threads: Int { 1 + borrowed }
        private let lender = ThreadLender.current

        /// Runs on up to `threads` OpenMP threads: the caller and what the thread lender gives.
        init(_ lib: Library, threads: Int) throws {
            self.lib = lib
            var s: dnnl_stream_t?
            try check(lib.streamCreate(&s, lib.engine, dnnl_stream_default_flags.rawValue), "stream_create")
            guard let s else { throw ModelError("oneDNN stream_create returned no stream") }
            stream = s
            borrowed = threads > 1 ? max(0, min(threads - 1, lender.borrow(threads - 1))) : 0
            lib.setOpenMPThreads?(Int32(1 + borrowed))
        }

        /// A memory object for `desc` over `data` (not copied; must outlive this execution).
        func memory(_ desc: dnnl_memory_desc_t, _ data: UnsafeMutableRawPointer) throws -> dnnl_memory_t {
            var d = desc, m: dnnl_memory_t?
            try check(lib.memoryCreate(&m, &d, lib.engine, data), "memory_create")
            guard let m else { throw ModelError("oneDNN memory_create returned no memory") }
            memories.append(m)
            return m
        }

        func execute(_ primitive: Primitive, _ args: [(Int32, dnnl_memory_t)]) throws {
            let list = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
            try check(lib.primitiveExecute(primitive.handle, stream, Int32(list.count), list), "primitive_execute")
        }

        /// Reorders `from` (layout `fromDesc`) into `to` (layout `toDesc`) with `reorder`.
        func reorder(_ reorder: Primitive, _ fromDesc: dnnl_memory_desc_t, _ from: UnsafeMutableRawPointer,
                     _ toDesc: dnnl_memory_desc_t, _ to: UnsafeMutableRawPointer) throws {
            let src = try memory(fromDesc, from), dst = try memory(toDesc, to)
            try execute(reorder, [(DNNL_ARG_SRC_0, src), (DNNL_ARG_DST_0, dst)])
        }

        func finish() throws { try check(lib.streamWait(stream), "stream_wait") }

        deinit {
            for m in memories { _ = lib.memoryDestroy(m) }
            _ = lib.streamDestroy(stream)
            if borrowed > 0 { lender.giveBack(borrowed) }
        }
    }
}
