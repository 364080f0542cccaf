import CDNNL
import Foundation

/// Whether bf16 convolutions run in hardware here. Without avx512_bf16 or AMX, oneDNN would either
/// refuse or emulate bf16 with far slower code, so a bf16 session falls back to fp32 instead.
enum BF16Support {
    /// Tests pretend the CPU lacks bf16 (so does `CNNPIPE_NO_BF16=1`).
    nonisolated(unsafe) static var pretendMissing: Bool =
        ProcessInfo.processInfo.environment["CNNPIPE_NO_BF16"].map { !$0.isEmpty && $0 != "0" } ?? false

    /// Why bf16 cannot run here (the first half of the user's note), or nil when it can.
    static var missingReason: String? {
        guard DNNL.available, let lib = DNNL.library else { return "bf16 needs oneDNN (libdnnl.so.2, not loaded)" }
        guard !pretendMissing, cpuHasBF16, oneDNNPicksHardwareBF16(lib) else { return "bf16 needs avx512_bf16 or AMX" }
        return nil
    }

    static let cpuHasBF16: Bool = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let set = Set(flags.split(separator: " ").map(String.init))
        return set.contains("avx512_bf16") || set.contains("amx_bf16")
    }()

    /// A probe convolution: oneDNN names its implementation after the ISA it generated code for.
    /// Anything else (reference loops, or bf16 emulated on plain AVX-512) would be slower than fp32.
    private nonisolated(unsafe) static var probed: Bool?
    private static let probeLock = NSLock()

    private static func oneDNNPicksHardwareBF16(_ lib: DNNL.Library) -> Bool {
        probeLock.lock()
        defer { probeLock.unlock() }
        if let probed { return probed }
        let implementation = (try? DNNLConvolution(lib, probeShape))?.implementation ?? "none"
        let hardware = isHardwareBF16(implementation)
        probed = hardware
        return hardware
    }

    static func isHardwareBF16(_ implementation: String) -> Bool {
        implementation.contains("avx512_core_bf16") || implementation.contains("amx")
    }

    static let probeShape = DNNLConvolutionShape(
        input: [1, 32, 16, 16], weights: [32, 32, 3, 3], group: 1, strides: [1, 1], dilations: [1, 1],
        padBegin: [1, 1], padEnd: [1, 1], output: [1, 32, 16, 16], hasBias: true, activation: .none,
        layout: .blocked, precision: .bf16)
}
