/// The random numbers of `dlib::rand`, so that Chinese whispers visits nodes in dlib's order and
/// gives dlib's clusters: a 32-bit Mersenne twister (MT19937, the standard parameters) seeded with
/// 5489 — or, for a seed string, with the hash s = s·37 + byte over its bytes — and then run
/// 10,000 steps ahead ("primed") before the first number is handed out. A 64-bit number is two
/// 32-bit outputs, the first in the high half.
public struct DlibRandom: RandomNumberGenerator, Sendable {
    static let n = 624, m = 397
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    /// dlib's default generator (`dlib::rand rnd;`), or `dlib::rand(seed)` for a non-empty seed string.
    public init(seed: String = "") {
        var s: UInt32 = 5489
        if !seed.isEmpty {
            s = 0
            // dlib hashes the chars of a std::string (signed on x86: bytes above 127 count as negative).
            for byte in seed.utf8 { s = s &* 37 &+ UInt32(bitPattern: Int32(Int8(bitPattern: byte))) }
        }
        self.init(mersenneSeed: s)
        for _ in 0..<10_000 { _ = next32() }
    }

    /// The bare MT19937 seeded with `mersenneSeed` (no priming): for checking the generator itself.
    init(mersenneSeed: UInt32) {
        state[0] = mersenneSeed
        for i in 1..<Self.n {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
        index = Self.n
    }

    public mutating func next32() -> UInt32 {
        if index >= Self.n { twist() }
        var z = state[index]
        index += 1
        z ^= z >> 11
        z ^= (z << 7) & 0x9D2C_5680
        z ^= (z << 15) & 0xEFC6_0000
        z ^= z >> 18
        return z
    }

    /// dlib's `get_random_64bit_number`.
    public mutating func next64() -> UInt64 {
        let high = UInt64(next32())
        return high << 32 | UInt64(next32())
    }

    /// RandomNumberGenerator: `next64`.
    public mutating func next() -> UInt64 { next64() }

    private mutating func twist() {
        let n = Self.n, m = Self.m
        for i in 0..<n {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % n] & 0x7FFF_FFFF)
            state[i] = state[(i + m) % n] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_B0DF)
        }
        index = 0
    }
}
