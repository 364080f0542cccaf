import CDNNL
import Foundation

/// oneDNN (libdnnl.so.2), loaded with dlopen on first use like OpenBLAS: only its header is needed
/// to build, and where the library is missing the kernels keep their own (slower) paths.
/// `CNNPIPE_NO_DNNL=1` switches it off for the whole process (the fallback stays tested).
enum DNNL {
    typealias EngineCreate = @convention(c) (UnsafeMutablePointer<dnnl_engine_t?>?, dnnl_engine_kind_t, Int) -> dnnl_status_t
    typealias StreamCreate = @convention(c) (UnsafeMutablePointer<dnnl_stream_t?>?, dnnl_engine_t?, UInt32) -> dnnl_status_t
    typealias StreamCall = @convention(c) (dnnl_stream_t?) -> dnnl_status_t
    typealias MemoryDescInit = @convention(c) (UnsafeMutablePointer<dnnl_memory_desc_t>?, Int32, UnsafePointer<Int64>?,
                                               dnnl_data_type_t, dnnl_format_tag_t) -> dnnl_status_t
    typealias MemoryDescSize = @convention(c) (UnsafePointer<dnnl_memory_desc_t>?) -> Int
    typealias MemoryDescEqual = @convention(c) (UnsafePointer<dnnl_memory_desc_t>?, UnsafePointer<dnnl_memory_desc_t>?) -> Int32
    typealias ConvDescInit = @convention(c) (UnsafeMutablePointer<dnnl_convolution_desc_t>?, dnnl_prop_kind_t, dnnl_alg_kind_t,
                                             UnsafePointer<dnnl_memory_desc_t>?, UnsafePointer<dnnl_memory_desc_t>?,
                                             UnsafePointer<dnnl_memory_desc_t>?, UnsafePointer<dnnl_memory_desc_t>?,
                                             UnsafePointer<Int64>?, UnsafePointer<Int64>?, UnsafePointer<Int64>?,
                                             UnsafePointer<Int64>?) -> dnnl_status_t
    typealias AttrCreate = @convention(c) (UnsafeMutablePointer<dnnl_primitive_attr_t?>?) -> dnnl_status_t
    typealias AttrDestroy = @convention(c) (dnnl_primitive_attr_t?) -> dnnl_status_t
    typealias AttrSetScratchpad = @convention(c) (dnnl_primitive_attr_t?, dnnl_scratchpad_mode_t) -> dnnl_status_t
    typealias AttrSetPostOps = @convention(c) (dnnl_primitive_attr_t?, const_dnnl_post_ops_t?) -> dnnl_status_t
    typealias PostOpsCreate = @convention(c) (UnsafeMutablePointer<dnnl_post_ops_t?>?) -> dnnl_status_t
    typealias PostOpsDestroy = @convention(c) (dnnl_post_ops_t?) -> dnnl_status_t
    typealias PostOpsAppendEltwise = @convention(c) (dnnl_post_ops_t?, Float, dnnl_alg_kind_t, Float, Float) -> dnnl_status_t
    typealias PrimitiveDescCreate = @convention(c) (UnsafeMutablePointer<dnnl_primitive_desc_t?>?, UnsafeRawPointer?,
                                                    const_dnnl_primitive_attr_t?, dnnl_engine_t?,
                                                    const_dnnl_primitive_desc_t?) -> dnnl_status_t
    typealias ReorderDescCreate = @convention(c) (UnsafeMutablePointer<dnnl_primitive_desc_t?>?, UnsafePointer<dnnl_memory_desc_t>?,
                                                  dnnl_engine_t?, UnsafePointer<dnnl_memory_desc_t>?, dnnl_engine_t?,
                                                  const_dnnl_primitive_attr_t?) -> dnnl_status_t
    typealias PrimitiveDescQueryMD = @convention(c) (const_dnnl_primitive_desc_t?, dnnl_query_t, Int32) -> UnsafePointer<dnnl_memory_desc_t>?
    typealias PrimitiveDescQuery = @convention(c) (const_dnnl_primitive_desc_t?, dnnl_query_t, Int32, UnsafeMutableRawPointer?) -> dnnl_status_t
    typealias PrimitiveDescDestroy = @convention(c) (dnnl_primitive_desc_t?) -> dnnl_status_t
    typealias PrimitiveCreate = @convention(c) (UnsafeMutablePointer<dnnl_primitive_t?>?, const_dnnl_primitive_desc_t?) -> dnnl_status_t
    typealias PrimitiveDestroy = @convention(c) (dnnl_primitive_t?) -> dnnl_status_t
    typealias PrimitiveExecute = @convention(c) (const_dnnl_primitive_t?, dnnl_stream_t?, Int32, UnsafePointer<dnnl_exec_arg_t>?) -> dnnl_status_t
    typealias MemoryCreate = @convention(c) (UnsafeMutablePointer<dnnl_memory_t?>?, UnsafePointer<dnnl_memory_desc_t>?, dnnl_engine_t?,
                                             UnsafeMutableRawPointer?) -> dnnl_status_t
    typealias MemoryDestroy = @convention(c) (dnnl_memory_t?) -> dnnl_status_t
    typealias SetOpenMPThreads = @convention(c) (Int32) -> Void
    typealias AttrSetOutputScales = @convention(c) (dnnl_primitive_attr_t?, Int64, Int32, UnsafePointer<Float>?) -> dnnl_status_t
    typealias AttrSetZeroPoints = @convention(c) (dnnl_primitive_attr_t?, Int32, Int64, Int32, UnsafePointer<Int32>?) -> dnnl_status_t

    /// The entry points cnnpipe uses, and the one CPU engine every primitive is created on.
    struct Library {
        let engine: dnnl_engine_t
        let streamCreate: StreamCreate, streamWait: StreamCall, streamDestroy: StreamCall
        let memoryDescInit: MemoryDescInit, memoryDescSize: MemoryDescSize, memoryDescEqual: MemoryDescEqual
        let convolutionDescInit: ConvDescInit, deconvolutionDescInit: ConvDescInit
        let attrCreate: AttrCreate, attrDestroy: AttrDestroy, attrSetScratchpad: AttrSetScratchpad, attrSetPostOps: AttrSetPostOps
        let postOpsCreate: PostOpsCreate, postOpsDestroy: PostOpsDestroy, postOpsAppendEltwise: PostOpsAppendEltwise
        let primitiveDescCreate: PrimitiveDescCreate, reorderDescCreate: ReorderDescCreate
        let primitiveDescQueryMD: PrimitiveDescQueryMD, primitiveDescQuery: PrimitiveDescQuery
        let primitiveDescDestroy: PrimitiveDescDestroy
        let primitiveCreate: PrimitiveCreate, primitiveDestroy: PrimitiveDestroy, primitiveExecute: PrimitiveExecute
        let memoryCreate: MemoryCreate, memoryDestroy: MemoryDestroy
        /// oneDNN in Debian runs on OpenMP (libgomp): its thread count is set per calling thread.
        let setOpenMPThreads: SetOpenMPThreads?
        /// The int8 attributes of oneDNN 2.x (gone in 3.x, where the int8 convolutions stay off).
        let attrSetOutputScales: AttrSetOutputScales?, attrSetZeroPoints: AttrSetZeroPoints?
    }

    static let library: Library? = load()

    /// Whether fp32 convolutions on small maps with many channels use oneDNN (unless CNNPIPE_DNNL=0):
    /// there its blocked kernels beat im2col + sgemm on every layer of dlib's face ResNet (150² input:
    /// maps of 36² down to 5², 32 to 256 channels; 7.0 vs 10.4 ms of convolutions at one thread). On
    /// large maps the runtime's own paths stay ahead (multistyle26's 128² residual layers at two threads:
    /// 1.4 vs 1.6–2.0 ms, measured again after oneDNN got its second thread); stride-2 layers: `coversStrided`.
    /// Tests flip it.
    nonisolated(unsafe) static var smallMaps: Bool = {
        ProcessInfo.processInfo.environment["CNNPIPE_DNNL"] != "0" && available
    }()

    /// The layers `smallMaps` covers: 2D, both channel counts ≥ 32, at most 40 × 40 output pixels.
    static func coversSmallMap(channels c: Int, outChannels m: Int, outputPixels: Int, spatialRank: Int) -> Bool {
        smallMaps && spatialRank == 2 && min(c, m) >= 32 && outputPixels <= 1600
    }

    /// Whether batches (N ≥ 2) on the `smallMaps` layers that allow it (3×3, stride 1) run Winograd
    /// F(2×2, 3×3) (unless CNNPIPE_WINOGRAD=0). The face ResNet, by hand (`model bench --batch 8`): 2 threads
    /// 3.6–4.0 → 3.0–3.2 ms per face, 1 thread 5.7–6.7 → 4.0–4.2; one face gained nothing at one thread
    /// (7.1 vs 7.9 ms) and was a toss-up at two, so it stays direct. The weights' Winograd transform costs
    /// about 70 ms once. Descriptors against dlib: the same 2–4e-7 as the direct kernels.
    nonisolated(unsafe) static var winograd = ProcessInfo.processInfo.environment["CNNPIPE_WINOGRAD"] != "0"

    /// `smallMaps` also covers 2D stride-2 layers with kernels of 3×3 and up that the direct kernels do not
    /// take (`direct`: on AVX2, or too many channels); CNNPIPE_DNNL_STRIDED=0 never, =all every one (for
    /// measuring). The direct AVX-512 kernel splits each input row into even and odd columns first; MMOD at
    /// 1000×750, 2 threads, by hand: its three 5×5 stride-2 layers 12.4–13.7 ms direct vs 15.6–16.5 on
    /// oneDNN, whole detector 32.4–34.1 vs 36.0–39.1; multistyle26's 3×3 stride-2 layers: a toss-up.
    static func coversStrided(strides: [Int], kernel: [Int], direct: Bool) -> Bool {
        smallMaps && strided != "0" && (!direct || strided == "all")
            && strides == [2, 2] && kernel.count == 2 && kernel.allSatisfy { $0 >= 3 }
    }
    static let strided = ProcessInfo.processInfo.environment["CNNPIPE_DNNL_STRIDED"] ?? ""

    /// oneDNN can be used: the library loaded and CNNPIPE_NO_DNNL is not set. bf16 sessions need it.
    static let available: Bool = {
        let off = ProcessInfo.processInfo.environment["CNNPIPE_NO_DNNL"].map { !$0.isEmpty && $0 != "0" } ?? false
        return !off && library != nil
    }()

    /// Whether every fp32 convolution uses oneDNN: opt-in with CNNPIPE_DNNL=1. On an idle Zen 4 (AVX-512)
    /// the im2col + OpenBLAS path measured faster (multistyle26 at 512²: 118 vs 146 ms, 2 threads;
    /// docs/RUNTIME-SPEED.md). Tests flip it to run both paths in one process.
    nonisolated(unsafe) static var enabled: Bool = {
        let on = ProcessInfo.processInfo.environment["CNNPIPE_DNNL"].map { !$0.isEmpty && $0 != "0" } ?? false
        return on && available
    }()

    private static func load() -> Library? {
        // Idle OpenMP workers: libgomp spins 300,000 rounds (milliseconds) before it sleeps, taking cycles
        // from the runtime's own threads; sleeping at once (OMP_WAIT_POLICY=PASSIVE, before 2026-12-03)
        // made each of the face ResNet's ~90 parallel regions wait for a wake-up (2 threads: 7.9 vs 4.6 ms).
        // 30,000 rounds, about half a millisecond here, bridges the Swift ops between two primitives.
        // An explicit setting by the user wins.
        let environment = ProcessInfo.processInfo.environment
        if environment["OMP_WAIT_POLICY"] == nil && environment["GOMP_SPINCOUNT"] == nil { setenv("GOMP_SPINCOUNT", "30000", 0) }
        guard let handle = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL) ?? dlopen("libdnnl.so", RTLD_NOW | RTLD_LOCAL) else {
            return nil
        }
        func symbol<T>(_ name: String, _: T.Type) -> T? { dlsym(handle, name).map { unsafeBitCast($0, to: T.self) } }
        guard let engineCreate = symbol("dnnl_engine_create", EngineCreate.self) else { return nil }
        var engine: dnnl_engine_t?
        guard engineCreate(&engine, dnnl_cpu, 0) == dnnl_success, let engine else { return nil }
        guard let streamCreate = symbol("dnnl_stream_create", StreamCreate.self),
              let streamWait = symbol("dnnl_stream_wait", StreamCall.self),
              let streamDestroy = symbol("dnnl_stream_destroy", StreamCall.self),
              let memoryDescInit = symbol("dnnl_memory_desc_init_by_tag", MemoryDescInit.self),
              let memoryDescSize = symbol("dnnl_memory_desc_get_size", MemoryDescSize.self),
              let memoryDescEqual = symbol("dnnl_memory_desc_equal", MemoryDescEqual.self),
              let convolutionDescInit = symbol("dnnl_dilated_convolution_forward_desc_init", ConvDescInit.self),
              let deconvolutionDescInit = symbol("dnnl_dilated_deconvolution_forward_desc_init", ConvDescInit.self),
              let attrCreate = symbol("dnnl_primitive_attr_create", AttrCreate.self),
              let attrDestroy = symbol("dnnl_primitive_attr_destroy", AttrDestroy.self),
              let attrSetScratchpad = symbol("dnnl_primitive_attr_set_scratchpad_mode", AttrSetScratchpad.self),
              let attrSetPostOps = symbol("dnnl_primitive_attr_set_post_ops", AttrSetPostOps.self),
              let postOpsCreate = symbol("dnnl_post_ops_create", PostOpsCreate.self),
              let postOpsDestroy = symbol("dnnl_post_ops_destroy", PostOpsDestroy.self),
              let postOpsAppendEltwise = symbol("dnnl_post_ops_append_eltwise", PostOpsAppendEltwise.self),
              let primitiveDescCreate = symbol("dnnl_primitive_desc_create", PrimitiveDescCreate.self),
              let reorderDescCreate = symbol("dnnl_reorder_primitive_desc_create", ReorderDescCreate.self),
              let primitiveDescQueryMD = symbol("dnnl_primitive_desc_query_md", PrimitiveDescQueryMD.self),
              let primitiveDescQuery = symbol("dnnl_primitive_desc_query", PrimitiveDescQuery.self),
              let primitiveDescDestroy = symbol("dnnl_primitive_desc_destroy", PrimitiveDescDestroy.self),
              let primitiveCreate = symbol("dnnl_primitive_create", PrimitiveCreate.self),
              let primitiveDestroy = symbol("dnnl_primitive_destroy", PrimitiveDestroy.self),
              let primitiveExecute = symbol("dnnl_primitive_execute", PrimitiveExecute.self),
              let memoryCreate = symbol("dnnl_memory_create", MemoryCreate.self),
              let memoryDestroy = symbol("dnnl_memory_destroy", MemoryDestroy.self) else { return nil }
        return Library(engine: engine, streamCreate: streamCreate, streamWait: streamWait, streamDestroy: streamDestroy,
                       memoryDescInit: memoryDescInit, memoryDescSize: memoryDescSize, memoryDescEqual: memoryDescEqual,
                       convolutionDescInit: convolutionDescInit, deconvolutionDescInit: deconvolutionDescInit,
                       attrCreate: attrCreate, attrDestroy: attrDestroy, attrSetScratchpad: attrSetScratchpad,
                       attrSetPostOps: attrSetPostOps, postOpsCreate: postOpsCreate, postOpsDestroy: postOpsDestroy,
                       postOpsAppendEltwise: postOpsAppendEltwise, primitiveDescCreate: primitiveDescCreate,
                       reorderDescCreate: reorderDescCreate, primitiveDescQueryMD: primitiveDescQueryMD,
                       primitiveDescQuery: primitiveDescQuery,
                       primitiveDescDestroy: primitiveDescDestroy, primitiveCreate: primitiveCreate,
                       primitiveDestroy: primitiveDestroy, primitiveExecute: primitiveExecute,
                       memoryCreate: memoryCreate, memoryDestroy: memoryDestroy,
                       setOpenMPThreads: symbol("omp_set_num_threads", SetOpenMPThreads.self),
                       attrSetOutputScales: symbol("dnnl_primitive_attr_set_output_scales", AttrSetOutputScales.self),
                       attrSetZeroPoints: symbol("dnnl_primitive_attr_set_zero_points", AttrSetZeroPoints.self))
    }

    /// Throws a ModelError naming the failed call unless `status` is success.
    static func check(_ status: dnnl_status_t, _ call: String) throws {
        guard status == dnnl_success else { throw ModelError("oneDNN \(call) failed (status \(status.rawValue))") }
    }
}
