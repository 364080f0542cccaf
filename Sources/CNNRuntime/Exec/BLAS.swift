import COpenBLAS
import Foundation

/// OpenBLAS, loaded on first use. OpenBLAS picks its kernels when the library loads; on CPUs its
/// detection does not know (virtual machines often report a bare "Intel Xeon Processor") it falls
/// back to a generic SSE3 kernel that is 10× slower. So unless OPENBLAS_CORETYPE is already set,
/// we choose the kernel family from the CPU's feature flags, set it, and only then load the library.
enum BLAS {
    typealias Sgemm = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, Float,
                                      UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
                                      UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Sgemv = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias CoreName = @convention(c) () -> UnsafeMutablePointer<CChar>?

    private struct Library {
        let sgemm: Sgemm
        let sgemv: Sgemv
        let setThreads: SetThreads
        let coreName: String
    }

    private static let library: Library = {
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, let core = coreType() {
            setenv("OPENBLAS_CORETYPE", core, 0)
        }
        for name in ["libopenblas.so.0", "libopenblas.so"] {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) else { continue }
            guard let sgemm = dlsym(handle, "cblas_sgemm"), let sgemv = dlsym(handle, "cblas_sgemv"),
                  let threads = dlsym(handle, "openblas_set_num_threads") else { continue }
            let core = dlsym(handle, "openblas_get_corename").map { unsafeBitCast($0, to: CoreName.self)() }
            return Library(sgemm: unsafeBitCast(sgemm, to: Sgemm.self), sgemv: unsafeBitCast(sgemv, to: Sgemv.self),
                           setThreads: unsafeBitCast(threads, to: SetThreads.self),
                           coreName: core.flatMap { $0 }.map { String(cString: $0) } ?? "?")
        }
        fatalError("cnnpipe: OpenBLAS (libopenblas.so.0) not found; install libopenblas0 (scripts/setup.sh does)")
    }()

    /// The kernel family for this CPU from /proc/cpuinfo flags, or nil to let OpenBLAS decide.
    static func coreType() -> String? {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if ["avx512f", "avx512dq", "avx512bw", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    static var coreName: String { library.coreName }

    private static let threadLock = NSLock()
    nonisolated(unsafe) private static var currentThreads = -1

    /// OpenBLAS's own thread count (a global); changed only when it differs.
    static func setThreads(_ n: Int) {
        threadLock.lock()
        defer { threadLock.unlock() }
        if n != currentThreads { library.setThreads(Int32(n)); currentThreads = n }
    }

    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major.
    @inline(__always)
    static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
        library.sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[m] = alpha · op(A) · x + beta · y, A row-major m×n (op(A) = Aᵀ when `transA`: y then has n entries).
    @inline(__always)
    static func sgemv(transA: Bool = false, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                      x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        library.sgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda),
                      x, 1, beta, y, 1)
    }
}

/// OpenBLAS for code outside the runtime (the face gallery's distance search), through the same
/// run-time loading and kernel choice as the runtime's own calls. Row-major, 32-bit sizes.
public enum LinearAlgebra {
    /// The OpenBLAS kernel family in use ("Haswell", "SkylakeX", ...).
    public static var coreName: String { BLAS.coreName }

    /// OpenBLAS's own thread count for the calls below (a process-wide setting).
    public static func setThreads(_ n: Int) { BLAS.setThreads(max(1, n)) }

    /// y[m] = alpha · A[m×n] · x[n] + beta · y, or with `transA` y[n] = alpha · Aᵀ · x[m] + beta · y.
    public static func sgemv(transA: Bool = false, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        precondition(m <= Int(Int32.max) && n <= Int(Int32.max) && lda <= Int(Int32.max), "sgemv: dimension above 2^31")
        BLAS.sgemv(transA: transA, m: m, n: n, alpha: alpha, a: a, lda: lda, x: x, beta: beta, y: y)
    }

    /// C[m×n] = alpha · op(A) · op(B) + beta · C.
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition([m, n, k, lda, ldb, ldc].allSatisfy { $0 <= Int(Int32.max) }, "sgemm: dimension above 2^31")
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc)
    }
}
