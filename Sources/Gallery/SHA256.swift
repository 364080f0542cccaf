import Foundation

/// SHA-256 (FIPS 180-4), for the model identity of a gallery: the hash of the embedding model file.
/// Foundation on Linux has no CryptoKit and swift-crypto is not a dependency; this is the whole
/// algorithm, streaming, checked against the standard's known answers in the tests.
public struct SHA256: Sendable {
    private var state: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    private var buffer = [UInt8]()          // < 64 bytes not yet compressed
    private var length: UInt64 = 0          // bytes fed so far

    public init() { buffer.reserveCapacity(64) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var n = bytes.count
        length &+= UInt64(n)
        if !buffer.isEmpty {
            let take = min(64 - buffer.count, n)
            buffer.append(contentsOf: UnsafeBufferPointer(start: p, count: take))
            p += take; n -= take
            if buffer.count < 64 { return }
            let full = buffer
            full.withUnsafeBufferPointer { b in compress(b.baseAddress!, blocks: 1) }
            buffer.removeAll(keepingCapacity: true)
        }
        if n >= 64 { compress(p, blocks: n / 64); p += n / 64 * 64; n %= 64 }
        if n > 0 { buffer.append(contentsOf: UnsafeBufferPointer(start: p, count: n)) }
    }

    public mutating func update<D: DataProtocol>(_ data: D) {
        for region in data.regions { region.withUnsafeBytes { update($0) } }
    }

    /// The 32-byte digest (the value is consumed: padding is appended to a copy).
    public func finalize() -> [UInt8] {
        var copy = self
        let bits = length &* 8
        var tail: [UInt8] = [0x80] + [UInt8](repeating: 0, count: (55 &- buffer.count) & 63)
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
        tail.withUnsafeBytes { copy.update($0) }
        return copy.state.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (24 - 8 * $0)) } }
    }

    public static func hash<D: DataProtocol>(_ data: D) -> [UInt8] {
        var h = SHA256()
        h.update(data)
        return h.finalize()
    }

    public static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// Lowercase hex SHA-256 of a file, read in 1 MiB pieces.
    public static func hexOfFile(atPath path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw GalleryError("\(path): cannot open file") }
        defer { try? handle.close() }
        var h = SHA256()
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            h.update(chunk)
        }
        return hex(h.finalize())
    }

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// `blocks` consecutive 64-byte blocks into the state.
    private mutating func compress(_ data: UnsafePointer<UInt8>, blocks: Int) {
        Self.k.withUnsafeBufferPointer { k in
            state.withUnsafeMutableBufferPointer { h in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                    Self.compress(h.baseAddress!, data, blocks, k.baseAddress!, w.baseAddress!)
                }
            }
        }
    }

    /// The compression function on raw pointers, optimised even in debug builds (unoptimised, hashing
    /// the 22 MB face model would take seconds in every debug-build command and test).
    @_optimize(speed)
    private static func compress(_ h: UnsafeMutablePointer<UInt32>, _ data: UnsafePointer<UInt8>, _ blocks: Int,
                                 _ k: UnsafePointer<UInt32>, _ w: UnsafeMutablePointer<UInt32>) {
        // while loops and masking shifts: what stays cheap when the rest of the module is unoptimised.
        var block = data, n = 0
        while n < blocks {
            var t = 0
            while t < 16 {
                let i = 4 &* t
                w[t] = UInt32(block[i]) &<< 24 | UInt32(block[i &+ 1]) &<< 16 | UInt32(block[i &+ 2]) &<< 8 | UInt32(block[i &+ 3])
                t &+= 1
            }
            while t < 64 {
                let x = w[t &- 15], y = w[t &- 2]
                let s0 = (x &>> 7 | x &<< 25) ^ (x &>> 18 | x &<< 14) ^ (x &>> 3)
                let s1 = (y &>> 17 | y &<< 15) ^ (y &>> 19 | y &<< 13) ^ (y &>> 10)
                w[t] = w[t &- 16] &+ s0 &+ w[t &- 7] &+ s1
                t &+= 1
            }
            var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
            t = 0
            while t < 64 {
                let s1 = (e &>> 6 | e &<< 26) ^ (e &>> 11 | e &<< 21) ^ (e &>> 25 | e &<< 7)
                let t1 = hh &+ s1 &+ ((e & f) ^ (~e & g)) &+ k[t] &+ w[t]
                let s0 = (a &>> 2 | a &<< 30) ^ (a &>> 13 | a &<< 19) ^ (a &>> 22 | a &<< 10)
                let t2 = s0 &+ ((a & b) ^ (a & c) ^ (b & c))
                hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                t &+= 1
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
            block += 64
            n &+= 1
        }
    }
}
