import ArgumentParser
import FaceKit

/// --detect-size, for every command that offers --upsample (FaceFinder does the work).
struct DetectSizeOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Detect faces on a copy of each photo at most this many pixels on its long side; boxes are mapped back and landmarks and descriptors use the full-resolution pixels (0: detect at full resolution).",
        valueName: "pixels"))
    var detectSize = FaceFinder.defaultDetectSize

    func validate() throws {
        guard detectSize >= 0 else { throw ValidationError("--detect-size must be 0 (full resolution) or a number of pixels") }
    }
}
