import FrameModel
import XCTest

/// A turn-and-mirror is one orientation: the pixels (applyingOrientation) and the points (upright)
/// move the same way, for every angle and mirror the rotate stage offers.
final class OrientationTests: XCTestCase {
    func testPixelsAndPointsMoveAlike() {
        let (w, h, x, y) = (7, 4, 5, 1)
        var marked = Image(width: w, height: h, format: .gray8, bytes: [UInt8](repeating: 0, count: w * h))
        marked.bytes[y * w + x] = 255
        var seen = Set<Int>()
        for degrees in [0, 90, 180, 270] {
            for mirror in Orientation.Mirror.allCases {
                let o = Orientation(clockwise: degrees, then: mirror)
                seen.insert(o.value)
                let turned = marked.applyingOrientation(o.value)
                let at = turned.bytes.firstIndex(of: 255)!
                let (u, v) = o.upright((Double(x) + 0.5) / Double(w), (Double(y) + 0.5) / Double(h))
                XCTAssertEqual(at % turned.width, Int(u * Double(turned.width)), "\(degrees)° \(mirror): column")
                XCTAssertEqual(at / turned.width, Int(v * Double(turned.height)), "\(degrees)° \(mirror): row")
            }
        }
        XCTAssertEqual(seen, Set(1...8), "the 12 combinations cover the 8 orientations")
        XCTAssertEqual(Orientation(clockwise: 90, then: .none).value, 6, "EXIF 6 is a quarter turn clockwise")
    }
}
