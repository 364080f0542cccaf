/// Spatial geometry shared by Conv, ConvTranspose and the pooling ops (1D, 2D and 3D alike).
struct SpatialAttributes {
    var kernel: [Int]?
    var strides: [Int]?
    var dilations: [Int]?
    var pads: [Int]?
    var autoPad: String

    init(_ a: AttributeReader, dilations allowDilations: Bool = true) throws {
        kernel = try a.ints("kernel_shape")
        strides = try a.ints("strides")
        dilations = allowDilations ? try a.ints("dilations") : nil
        pads = try a.ints("pads")
        autoPad = try a.string("auto_pad", "NOTSET")
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else {
            throw a.error("auto_pad \(autoPad) is not supported")
        }
        // Bounded here so the geometry arithmetic below can never overflow.
        do {
            try TensorLimits.attribute(kernel ?? [], "kernel_shape", minimum: 1)
            try TensorLimits.attribute(strides ?? [], "strides", minimum: 1)
            try TensorLimits.attribute(dilations ?? [], "dilations", minimum: 1)
            try TensorLimits.attribute(pads ?? [], "pads")
        } catch { throw a.error("\(error)") }
    }

    /// Resolved per-dimension values for an input of spatial size `input` and kernel size `k`.
    func resolve(input: [Int], kernel k: [Int], ceilMode: Bool = false, op: String) throws -> Geometry {
        let n = input.count
        let s = strides ?? Array(repeating: 1, count: n)
        let d = dilations ?? Array(repeating: 1, count: n)
        guard k.count == n, s.count == n, d.count == n, s.allSatisfy({ $0 > 0 }), d.allSatisfy({ $0 > 0 }),
              k.allSatisfy({ $0 > 0 }) else {
            throw ModelError("\(op): kernel \(k), strides \(s), dilations \(d) do not fit \(n) spatial dimensions")
        }
        var begin = [Int](repeating: 0, count: n), end = [Int](repeating: 0, count: n), out = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let extent = d[i] * (k[i] - 1) + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                out[i] = (input[i] + s[i] - 1) / s[i]
                let total = max(0, (out[i] - 1) * s[i] + extent - input[i])
                let small = total / 2
                (begin[i], end[i]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
            case "VALID":
                out[i] = (input[i] - extent) / s[i] + 1
            default:
                if let p = pads {
                    guard p.count == 2 * n else { throw ModelError("\(op): pads \(p) do not fit \(n) dimensions") }
                    begin[i] = p[i]; end[i] = p[i + n]
                }
                let span = input[i] + begin[i] + end[i] - extent
                out[i] = (ceilMode ? (span + s[i] - 1) / s[i] : span / s[i]) + 1
                // ceil_mode: a last window that starts inside the right padding is dropped.
                if ceilMode && (out[i] - 1) * s[i] >= input[i] + begin[i] { out[i] -= 1 }
            }
            guard out[i] > 0 else { throw ModelError("\(op): input size \(input) is too small for kernel \(k)") }
        }
        return Geometry(input: input, kernel: k, strides: s, dilations: d, padBegin: begin, padEnd: end, output: out)
    }
}

struct Geometry {
    var input: [Int]
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var padBegin: [Int]
    var padEnd: [Int]
    var output: [Int]

    var inputSize: Int { input.reduce(1, *) }
    var outputSize: Int { output.reduce(1, *) }
    var kernelSize: Int { kernel.reduce(1, *) }

    /// The any-rank (3D) im2col and col2im: which input element one kernel tap reads for each output
    /// position, by index arithmetic (the 1D/2D paths have row-wise loops instead).
    struct TapWalker {
        let geo: Geometry
        private let inStrides: [Int]
        private var tap: [Int], position: [Int]

        init(_ geo: Geometry) {
            self.geo = geo
            let dims = geo.input.count
            var strides = [Int](repeating: 1, count: dims)
            for i in stride(from: dims - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * geo.input[i + 1] }
            inStrides = strides
            tap = [Int](repeating: 0, count: dims)
            position = tap
        }

        /// Kernel tap `t` (0 ..< kernelSize, row-major over the kernel's dimensions).
        mutating func select(tap t: Int) {
            var r = t
            for i in stride(from: tap.count - 1, through: 0, by: -1) { tap[i] = r % geo.kernel[i]; r /= geo.kernel[i] }
        }

        /// The offset in one input channel that output position `j` reads through the selected tap; nil in the padding.
        @inline(__always)
        mutating func inputOffset(output j: Int) -> Int? {
            var q = j
            for i in stride(from: position.count - 1, through: 0, by: -1) { position[i] = q % geo.output[i]; q /= geo.output[i] }
            var offset = 0
            for i in 0..<position.count {
                let pos = position[i] * geo.strides[i] - geo.padBegin[i] + tap[i] * geo.dilations[i]
                if pos < 0 || pos >= geo.input[i] { return nil }
                offset += pos * inStrides[i]
            }
            return offset
        }
    }

    /// Lifts a 1D geometry to 2D (height 1) so one 2D code path serves both.
    var as2D: Geometry {
        guard input.count == 1 else { return self }
        return Geometry(input: [1] + input, kernel: [1] + kernel, strides: [1] + strides, dilations: [1] + dilations,
                        padBegin: [0] + padBegin, padEnd: [0] + padEnd, output: [1] + output)
    }
}
