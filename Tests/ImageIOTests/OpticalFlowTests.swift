import Foundation
@testable import FrameModel
import XCTest
@testable import ImageIO

/// FrameModel's Lucas–Kanade flow and warp on known motion of a corpus photo.
final class OpticalFlowTests: XCTestCase {
    /// tubingen.jpg as gray 0…1.
    private func photo() throws -> FloatImage {
        let image = try Codec.decode(try TestImages.corpusFile("content/tubingen.jpg")).image.converted(to: .gray8)
        return FloatImage(image)
    }

    private func crop(_ p: FloatImage, x: Int, y: Int, width: Int, height: Int) -> FloatImage {
        var s: [Float] = []
        for row in y..<(y + height) { s += p.samples[(row * p.width + x)..<(row * p.width + x + width)] }
        return FloatImage(width: width, height: height, channels: 1, samples: s)
    }

    /// Mean end-point error against the expected field, `margin` pixels from the borders left out.
    private func endPointError(_ f: FlowField, margin: Int, expected: (Int, Int) -> (Float, Float)) -> Float {
        var sum: Float = 0, count = 0
        for y in margin..<(f.height - margin) {
            for x in margin..<(f.width - margin) {
                let (u, v) = expected(x, y), i = y * f.width + x
                sum += ((f.u[i] - u) * (f.u[i] - u) + (f.v[i] - v) * (f.v[i] - v)).squareRoot()
                count += 1
            }
        }
        return sum / Float(count)
    }

    func testFlowOfAShiftedPhoto() throws {
        let p = try photo()
        let a = crop(p, x: 500, y: 250, width: 320, height: 240)      // the houses (textured)
        let b = crop(p, x: 507, y: 246, width: 320, height: 240)      // content moves by (−7, +4)
        let flow = LucasKanade().flow(from: a, to: b)
        let epe = endPointError(flow, margin: 16) { _, _ in (-7, 4) }
        print("shift (−7, +4): mean end-point error \(epe) px")
        let mask = flow.consistencyMask(with: LucasKanade().flow(from: b, to: a))
        let interior = (16..<224).flatMap { y in (16..<304).map { mask[y * 320 + $0] } }
        XCTAssertGreaterThan(interior.reduce(0, +) / Float(interior.count), 0.9, "a pure shift is consistent almost everywhere")
        XCTAssertLessThan(mask.reduce(0, +) / Float(mask.count), 0.97, "what moves out of the picture is not")
    }

    func testFlowOfARotatedPhoto() throws {
        let p = try photo()
        let a = crop(p, x: 500, y: 250, width: 320, height: 240)      // the houses (textured)
        // b(x) = a(x + f(x)) with f a 3° rotation about the centre: the flow from b to a is f.
        let angle: Float = 3 * .pi / 180, cx: Float = 160, cy: Float = 120
        var u = [Float](repeating: 0, count: 320 * 240), v = u
        for y in 0..<240 { for x in 0..<320 {
            let dx = Float(x) - cx, dy = Float(y) - cy
            u[y * 320 + x] = cos(angle) * dx - sin(angle) * dy - dx
            v[y * 320 + x] = sin(angle) * dx + cos(angle) * dy - dy
        } }
        let f = FlowField(width: 320, height: 240, u: u, v: v)
        let b = FlowWarp.warp(a, by: f)
        let flow = LucasKanade().flow(from: b, to: a)
        let epe = endPointError(flow, margin: 20) { x, y in (u[y * 320 + x], v[y * 320 + x]) }
        print("rotation 3°: mean end-point error \(epe) px")
        XCTAssertLessThan(epe, 0.35)
    }

    func testWarpByAKnownFlow() {
        let image = FloatImage(width: 9, height: 7, channels: 2, samples: (0..<126).map { Float($0) })
        let shifted = FlowWarp.warp(image, by: FlowField(width: 9, height: 7, u: Array(repeating: 2, count: 63),
                                                         v: Array(repeating: 1, count: 63)))
        for y in 0..<6 { for x in 0..<7 { for c in 0..<2 {
            XCTAssertEqual(shifted.samples[(y * 9 + x) * 2 + c], image.samples[((y + 1) * 9 + x + 2) * 2 + c])
        } } }
        let half = FlowWarp.warp(image, by: FlowField(width: 9, height: 7, u: Array(repeating: 0.5, count: 63),
                                                      v: Array(repeating: 0, count: 63)))
        XCTAssertEqual(half.samples[0], (image.samples[0] + image.samples[2]) / 2)
    }

    func testBoxSumMatchesADirectSum() {
        let p = (0..<(11 * 6)).map { Float(($0 * 37) % 11) }
        let box = LucasKanade.boxSum(p, width: 11, height: 6, radius: 2)
        for y in 0..<6 { for x in 0..<11 {
            var direct: Float = 0
            for dy in -2...2 { for dx in -2...2 { direct += p[min(max(y + dy, 0), 5) * 11 + min(max(x + dx, 0), 10)] } }
            XCTAssertEqual(box[y * 11 + x], direct, accuracy: 1e-4)
        } }
    }
}
