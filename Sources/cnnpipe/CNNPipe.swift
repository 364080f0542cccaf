import ArgumentParser
import FilterKit
import Foundation

/// cnnpipe's version, shown by `cnnpipe --version`.
let cnnpipeVersion = "0.15.0"

struct CNNPipe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cnnpipe",
        abstract: "Stream images through CNN filter graphs.",
        discussion: """
        cnnpipe reads images (JPEG, PNG, WebP, PPM/PGM/PAM; one or many back to back) from files or stdin, runs them \
        through a graph of filter stages loaded from plugins, and writes the results to stdout or files.

        Examples:
          cnnpipe run -e 'resize width=640 | rotate angle=90' < in.jpg > out.jpg
          cat photos/*.jpg | cnnpipe run -e 'resize width=256' --format webp > small.webps
          cnnpipe run presets/contact-sheet.yaml photos/ -o sheet.png
          cnnpipe faces tag --gallery people.db ~/Pictures --sidecar
          cnnpipe stages            # what stages the plugins provide
          cnnpipe inspect resize    # one stage's parameters and pads

        Exit status (every command): 0 success; 1 an input (an image, a photo, a model file) failed, \
        the others were still done; 2 bad command line, preset, gallery or configuration; 128+N \
        stopped by signal N (SIGINT 130, SIGTERM 143). Errors are one line on stderr: "cnnpipe: error: ...".
        """,
        version: cnnpipeVersion,
        subcommands: [Run.self, Stages.self, Inspect.self, Presets.self, Validate.self, ModelCommand.self, FacesCommand.self,
                      GalleryCommand.self])
}

/// The entry point: swift-argument-parser's parsing, with cnnpipe's exit codes (2 for a bad command
/// line, not the parser's 64) and error style (one "cnnpipe: error:" line plus a usage hint).
@main
enum Main {
    static func main() {
        let command: ParsableCommand
        do {
            command = try CNNPipe.parseAsRoot()
        } catch {
            exitForParseError(error)
        }
        do {
            var mutable = command
            try mutable.run()
        } catch {
            exitForParseError(error)
        }
    }

    private static func exitForParseError(_ error: Error) -> Never {
        let code = CNNPipe.exitCode(for: error)
        // --help, --version and friends: what the parser prints, exit 0.
        if code == .success {
            CNNPipe.exit(withError: error)
        }
        if let exit = error as? ExitCode { TempFiles.removeAll(); Foundation.exit(exit.rawValue) }
        let message = CNNPipe.message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
        let usage = code == .validationFailure
            ? "\n" + CNNPipe.usageString(for: error) : ""
        FileHandle.standardError.write(Data("cnnpipe: error: \(message.split(separator: "\n").joined(separator: " "))\(usage)\n".utf8))
        TempFiles.removeAll()
        Foundation.exit(code == .validationFailure ? 2 : (code.rawValue == 0 ? 1 : code.rawValue))
    }
}

extension CNNPipe {
    /// "Usage: ..." for the subcommand the error is about, and where to find more.
    static func usageString(for error: Error) -> String {
        let text = fullMessage(for: error)
        guard let usage = text.range(of: "Usage:") else { return "  (cnnpipe --help for usage)" }
        let line = text[usage.lowerBound...].split(separator: "\n").first.map(String.init) ?? ""
        return "  " + line.trimmingCharacters(in: .whitespaces)
    }
}
