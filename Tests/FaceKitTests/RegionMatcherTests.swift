import CNNRuntime
@testable import FaceKit
import Foundation
import ImageIO
import XCTest

/// Regions drawn by hand are looser than the detector's boxes. On the corpus's group photos
/// (upsampled once: 33 faces), every detected face gets synthetic "hand-drawn" regions: the box grown
/// around its centre by a factor and moved up by a tenth of its side (people include the hair). The
/// test measures the overlap with the face itself and with its nearest neighbour in the photo, and
/// checks the default least overlap (0.3): up to 1.6 times the box every region finds its own face,
/// and no region ever takes another.
final class RegionMatcherTests: XCTestCase {
    func testOverlap() {
        let a = RegionMatcher.Box(x: 0, y: 0, width: 10, height: 10)
        XCTAssertEqual(RegionMatcher.overlap(a, a), 1)
        XCTAssertEqual(RegionMatcher.overlap(a, .init(x: 5, y: 0, width: 10, height: 10)), 50.0 / 150.0, accuracy: 1e-12)
        XCTAssertEqual(RegionMatcher.overlap(a, .init(x: 10, y: 0, width: 10, height: 10)), 0)
        XCTAssertEqual(RegionMatcher.overlap(a, .init(x: -5, y: -5, width: 20, height: 20)), 0.25, accuracy: 1e-12)
        XCTAssertEqual(RegionMatcher.Box(DlibRectangle(left: 2, top: 3, right: 11, bottom: 7)), .init(x: 2, y: 3, width: 10, height: 5))
        let m = RegionMatcher.match(regions: [a, .init(x: 100, y: 100, width: 5, height: 5)],
                                    faces: [.init(x: 50, y: 50, width: 10, height: 10), .init(x: 1, y: 1, width: 10, height: 10)])
        XCTAssertEqual(m[0].face, 1)
        XCTAssertNil(m[1].face)
    }

    func testLooseRegionsFindTheirFaceInGroupPhotos() throws {
        let models = FaceDetectorTests.models
        guard FileManager.default.fileExists(atPath: models + "/" + FaceFinder.detectorFile) else { throw XCTSkip("models not fetched") }
        let finder = try FaceFinder(detectorPath: models + "/" + FaceFinder.detectorFile, landmarkPath: nil, threads: 2)
        let photos = ["2007_007763.jpg", "2008_002079.jpg", "2008_002470.jpg", "2008_004176.jpg", "2008_007676.jpg", "obama_biden_two_people.jpg"]
        var own: [Double: [Double]] = [:], other: [Double: Double] = [:]
        var faceCount = 0
        for name in photos {
            let data = try Data(contentsOf: URL(fileURLWithPath: FaceDetectorTests.corpus + "/faces/group/" + name))
            let image = try Codec.decode([UInt8](data)).image.converted(to: .rgb8)
            let faces = try finder.find(rgb: image.bytes, width: image.width, height: image.height, upsample: 1).map { RegionMatcher.Box($0.rect) }
            faceCount += faces.count
            for (i, face) in faces.enumerated() {
                for scale in [1.0, 1.2, 1.4, 1.6, 1.8, 2.0] {
                    let side = max(face.width, face.height) * scale
                    let region = RegionMatcher.Box(x: face.x + face.width / 2 - side / 2,
                                                   y: face.y + face.height / 2 - side / 2 - 0.1 * face.height, width: side, height: side)
                    let match = RegionMatcher.match(regions: [region], faces: faces)[0]
                    own[scale, default: []].append(RegionMatcher.overlap(region, face))
                    let others = faces.indices.filter { $0 != i }.map { RegionMatcher.overlap(region, faces[$0]) }
                    other[scale] = max(other[scale] ?? 0, others.max() ?? 0)
                    XCTAssertNotEqual(match.face.map { $0 != i }, true, "\(name) face \(i) ×\(scale): matched another face")
                    if scale <= 1.6 { XCTAssertEqual(match.face, i, "\(name) face \(i) ×\(scale)") }
                }
            }
        }
        XCTAssertGreaterThanOrEqual(faceCount, 20)
        for scale in own.keys.sorted() {
            print(String(format: "regions ×%.1f: overlap with their own face %.2f–%.2f, with another face at most %.2f (%d faces)",
                         scale, own[scale]!.min()!, own[scale]!.max()!, other[scale]!, faceCount))
        }
        XCTAssertLessThan(other.values.max()!, RegionMatcher.defaultMinOverlap)
    }
}
