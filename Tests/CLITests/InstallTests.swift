import Foundation
import XCTest

/// scripts/install.sh gives a prefix that runs on a machine without the Swift toolchain, from any
/// folder: the toolchain is hidden under a private mount namespace (needs root and unshare).
final class InstallTests: XCTestCase {
    func testInstalledPrefixRunsWithoutTheToolchain() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else {
            throw XCTSkip("needs root and unshare to hide the toolchain")
        }
        let prefix = try TestEnv.tempDir(), elsewhere = try TestEnv.tempDir(), empty = try TestEnv.tempDir()
        // The build under test, as it is (SwiftPM cannot build inside `swift test`).
        let bin = URL(fileURLWithPath: TestEnv.cnnpipe).deletingLastPathComponent().path
        let install = try runProcess(TestEnv.root + "/scripts/install.sh", [prefix], environment: ["CNNPIPE_BIN": bin])
        XCTAssertEqual(install.status, 0, install.stderr)
        try FileManager.default.copyItem(atPath: TestEnv.corpus + "/content/dog.jpg", toPath: elsewhere + "/in.jpg")
        // The toolchain's usr/ (swiftc, the runtime libraries) replaced by an empty folder.
        let swiftc = try runProcess("/usr/bin/which", ["swiftc"]).stdout
        let toolchain = URL(fileURLWithPath: String(decoding: swiftc, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            .resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().path
        let cnnpipe = prefix + "/bin/cnnpipe"
        let hidden = "mount --bind \(empty) \(toolchain) && cd \(elsewhere) && "
        let r = try runProcess("/usr/bin/unshare", ["-m", "sh", "-c", hidden + """
            \(cnnpipe) stages && \(cnnpipe) run -e 'resize width=64' in.jpg -o out.png && \(cnnpipe) run thumbnails in.jpg -o thumb.jpg
            """])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(String(decoding: r.stdout, as: UTF8.self).contains("posterize"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: elsewhere + "/out.png"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: elsewhere + "/thumb.jpg"), "a bundled preset, found from another folder")
        try installedPresetsDoNotDependOnTheFolder(cnnpipe: cnnpipe, hidden: hidden, elsewhere: elsewhere)
        // Without the bundled runtime the same binary cannot start: the toolchain really was hidden.
        try FileManager.default.removeItem(atPath: prefix + "/lib/cnnpipe/swift")
        let bare = try runProcess("/usr/bin/unshare", ["-m", "sh", "-c", hidden + "\(cnnpipe) stages"])
        XCTAssertNotEqual(bare.status, 0)
        XCTAssertTrue(bare.stderr.contains("libswift"), bare.stderr)
    }

    /// The presets that name files: a classic preset's painting (installed with it) and the
    /// tag-people preset's gallery (the user's own, not one in the current folder).
    private func installedPresetsDoNotDependOnTheFolder(cnnpipe: String, hidden: String, elsewhere: String) throws {
        guard FileManager.default.fileExists(atPath: TestEnv.root + "/models/" + "dlib_face_recognition_resnet_model_v1.dat") else {
            throw XCTSkip("needs the models: run scripts/setup-models.sh")
        }
        let faces = TestEnv.corpus + "/faces"
        try FileManager.default.copyItem(atPath: faces + "/train/john_simm/000288_00470387.jpg", toPath: elsewhere + "/enrol.jpg")
        try FileManager.default.copyItem(atPath: faces + "/test/john_simm/000309_00470287.jpg", toPath: elsewhere + "/simm.jpg")
        let small = ["size=64", "scales=1", "iterations=2"].map { "--set stylize-classic.\($0)" }.joined(separator: " ")
        let r = try runProcess("/usr/bin/unshare", ["-m", "sh", "-c", hidden + """
            unset CNNPIPE_MODELS CNNPIPE_GALLERY; export XDG_DATA_HOME=\(elsewhere)/data && \
            \(cnnpipe) run classic-starry-night \(small) in.jpg -o starry.jpg && \
            \(cnnpipe) gallery enroll --name 'John Simm' enrol.jpg && \
            \(cnnpipe) run tag-people --set face-detect.upsample=0 simm.jpg -o tagged.jpg --json
            """])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: elsewhere + "/starry.jpg"), "the painting travelled with the preset")
        XCTAssertTrue(FileManager.default.fileExists(atPath: elsewhere + "/data/cnnpipe/people.db"), "enrolled into the user's gallery")
        XCTAssertTrue(r.stderr.contains("\"name\":\"John Simm\""), r.stderr)
    }
}
