import Foundation
import XCTest

/// One exit-status table and one error style for every subcommand: a bad command line is exit 2 with
/// "cnnpipe: error: ..." and a usage line; --help is exit 0; --version prints the version.
final class CommandLineConventionTests: XCTestCase {
    /// The subcommands `--help` lists (groups expanded), e.g. ["run"], ["gallery", "enroll"].
    private func subcommands(_ path: [String] = []) throws -> [[String]] {
        let help = String(decoding: try cnnpipe(path + ["--help"]).stdout, as: UTF8.self)
        guard let section = help.components(separatedBy: "SUBCOMMANDS:").dropFirst().first else { return [path] }
        let names = section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first,
                  name != "See" else { return nil }
            return String(name)
        }
        return try names.flatMap { try subcommands(path + [$0]) }
    }

    func testEverySubcommandFollowsTheExitStatusTable() throws {
        let all = try subcommands()
        XCTAssertGreaterThan(all.count, 20, "\(all)")
        for command in all {
            let help = try cnnpipe(command + ["--help"])
            XCTAssertEqual(help.status, 0, "\(command) --help")
            let bad = try cnnpipe(command + ["--no-such-option-anywhere"])
            XCTAssertEqual(bad.status, 2, "\(command): \(bad.stderr)")
            XCTAssertTrue(bad.stderr.hasPrefix("cnnpipe: error: "), "\(command): \(bad.stderr)")
            XCTAssertLessThanOrEqual(bad.stderr.split(separator: "\n").count, 2, "\(command): \(bad.stderr)")
        }
        let version = try cnnpipe(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(String(decoding: version.stdout, as: UTF8.self).first?.isNumber == true)
    }

    /// Help paragraphs are written unwrapped and wrapped by the parser at the terminal's width: on a
    /// wide terminal no sentence continues on the next line.
    func testHelpParagraphsAreNotHardWrapped() throws {
        for command in try subcommands() {
            let help = String(decoding: try cnnpipe(command + ["--help"], environment: ["COLUMNS": "1000"]).stdout, as: UTF8.self)
            let prose = help.components(separatedBy: "USAGE:")[0].split(separator: "\n", omittingEmptySubsequences: false)
            for (line, next) in zip(prose, prose.dropFirst()) where !line.isEmpty && !line.hasPrefix(" ") && !line.hasSuffix(":") {
                XCTAssertFalse(next.first?.isLowercase == true, "\(command): a sentence breaks after '\(line.suffix(30))'")
            }
        }
    }
}
