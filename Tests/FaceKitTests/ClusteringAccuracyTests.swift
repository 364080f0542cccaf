@testable import FaceKit
import Foundation
import XCTest

/// Chinese whispers on real faces: every face of the corpus's train, test and unknown folders
/// (12 people), clustered at dlib's 0.5, against the true identities (the folder names).
final class ClusteringAccuracyTests: XCTestCase {
    func testCorpusFacesClusterByPerson() throws {
        guard let corpus = RecognitionAccuracyTests.corpus else { throw XCTSkip("models not fetched (scripts/setup-models.sh)") }
        let faces = corpus.train + corpus.test + corpus.unknown
        // unknown/<person>/ files: the person is the folder in the file's path.
        let people = faces.map { $0.person == "unknown" ? String($0.file.split(separator: "/")[0]) : $0.person }
        XCTAssertEqual(Set(people).count, 12)
        let labels = try ChineseWhispers.cluster(descriptors: faces.map(\.descriptor), threshold: 0.5)
        let ari = adjustedRandIndex(labels, people)
        print(String(format: "clustering: %d faces of %d people → %d clusters, adjusted Rand index %.4f",
                     faces.count, Set(people).count, Set(labels).count, ari))
        XCTAssertGreaterThanOrEqual(ari, 0.95)
    }
}
