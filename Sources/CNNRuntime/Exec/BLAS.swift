import COpenBLAS
import Foundation

/// OpenBLAS, loaded on first use. OpenBLAS picks its kernels when the library loads; on CPUs its
/// detection does not know (virtual machines often report a bare "Intel Xeon Processor") it falls
/// back to a generic SSE3 kernel that is 10× slower. So unless OPENBLAS_CORETYPE is already set,
/// we choose the kernel family from the CPU's feature flags, set it, and only then load the library.
///
/// OpenBLAS runs on one thread, pinned when it loads: its thread count is one setting for the whole
/// process, which concurrent sessions would fight over, and its own pool would run beside the
/// runtime's threads. Large products are split over the runtime's threads instead (`sgemm(threads:)`).
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
        let coreName: String
    }

    private static let library: Library = {
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, let core = coreType() {
            setenv("OPENBLAS_CORETYPE", core, 0)
        }
        if ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] == nil { setenv("OPENBLAS_NUM_THREADS", "1", 0) }
        for name in ["libopenblas.so.0", "libopenblas.so"] {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL) else { continue }
            guard let sgemm = dlsym(handle, "cblas_sgemm"), let sgemv = dlsym(handle, "cblas_sgemv"),
                  let threads = dlsym(handle, "openblas_set_num_threads") else { continue }
            let core = dlsym(handle, "openblas_get_corename").map { unsafeBitCast($0, to: CoreName.self)() }
            unsafeBitCast(threads, to: SetThreads.self)(1)
            return Library(sgemm: unsafeBitCast(sgemm, to: Sgemm.self), sgemv: unsafeBitCast(sgemv, to: Sgemv.self),
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

    /// y[m] = alpha · A[m×n] · x[n] + beta · y, or with `transA` y[n] = alpha · Aᵀ · x[m] + beta · y.
    public static func sgemv(transA: Bool = false, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        precondition(m <= Int(Int32.max) && n <= Int(Int32.max) && lda <= Int(Int32.max), "sgemv: dimension above 2^31")
        BLAS.sgemv(transA: transA, m: m, n: n, alpha: alpha, a: a, lda: lda, x: x, beta: beta, y: y)
    }

    /// C[m×n] = alpha · op(A) · op(B) + beta · C, split over up to `threads` threads (from the thread lender).
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = 1) {
        precondition([m, n, k, lda, ldb, ldc].allSatisfy { $0 <= Int(Int32.max) }, "sgemm: dimension above 2^31")
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c, ldc: ldc, threads: threads)
    }
}

extension BLAS {
    /// Below this many multiply-adds a product stays on one thread (splitting costs more than it gains).
    static let multiplyAddsPerThread = 2_000_000

    /// C = alpha · op(A) · op(B) + beta · C on up to `threads` threads: C is cut into column blocks
    /// when it is wider than tall, else into row blocks, and each block is one single-threaded sgemm.
    static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                      c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        let wanted = min(threads, max(1, m * n * k / multiplyAddsPerThread), max(m, n) / 16)
        guard wanted > 1 else {
            return sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                         beta: beta, c: c, ldc: ldc)
        }
        ThreadLender.withThreads(upTo: wanted) { parts in
            let byColumns = n >= m
            let length = byColumns ? n : m
            let per = ((length + parts - 1) / parts + 15) & ~15   // whole 16-wide blocks
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let lo = min(length, part * per), count = min(length, lo + per) - lo
                guard count > 0 else { return }
                if byColumns {
                    sgemm(transA: transA, transB: transB, m: m, n: count, k: k, alpha: alpha, a: a, lda: lda,
                          b: transB ? b + lo * ldb : b + lo, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
                } else {
                    sgemm(transA: transA, transB: transB, m: count, n: n, k: k, alpha: alpha,
                          a: transA ? a + lo : a + lo * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + lo * ldc, ldc: ldc)
                }
            }
        }
    }
}
