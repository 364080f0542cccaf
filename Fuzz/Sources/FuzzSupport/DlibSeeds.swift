import Foundation

/// dlib's serialisation written by hand for seeds: compressed integers, portable floats, matrices.
public enum DlibSeeds {
    static func int(_ v: Int) -> [UInt8] {
        var magnitude = UInt64(v.magnitude), bytes: [UInt8] = []
        repeat { bytes.append(UInt8(magnitude & 0xFF)); magnitude >>= 8 } while magnitude > 0
        return [UInt8(bytes.count) | (v < 0 ? 0x80 : 0)] + bytes
    }

    static func float(_ v: Float) -> [UInt8] {
        if v == 0 { return int(0) + int(0) }
        let e = Int(Double(v).exponent) - 23
        return int(Int(scalbn(Double(v), -e))) + int(e)
    }

    static func column(_ values: [Float]) -> [UInt8] { int(-values.count) + int(-1) + values.flatMap(float) }

    /// Version 1, mean shape, cascades of two-split trees, anchors and deltas (two feature pixels each).
    public static func shapePredictor(landmarks: Int, cascades: Int) -> [UInt8] {
        let n = 2 * landmarks
        var b = int(1) + column((0..<n).map { Float($0 % 2 == 0 ? 0.3 : 0.6) + Float($0) * 0.01 })
        b += int(cascades)
        for c in 0..<cascades {
            b += int(1)                                          // one tree
            b += int(2) + int(0) + int(1) + float(10) + int(1) + int(0) + float(-5)   // two splits
            b += int(3)                                          // three leaves
            for leaf in 0..<3 { b += column((0..<n).map { Float(leaf - 1) * 0.01 * Float(c + 1) + Float($0) * 0.001 }) }
        }
        b += int(cascades)
        for _ in 0..<cascades { b += int(2) + int(0) + int(landmarks - 1) }
        b += int(cascades)
        for _ in 0..<cascades { b += int(2) + float(0.05) + float(-0.02) + float(0) + float(0.1) }
        return b
    }
}
