import Foundation
import ImageIO

/// Where and how `faces tag` writes: the sink and frame I/O for its destination, and what each
/// destination already records (the tag state of an earlier run, for incremental runs).
public struct LibraryTagging {
    public enum Destination {
        case inPlace(keepModificationTime: Bool, backup: Bool)
        case sidecar(XMPFiles.SidecarNaming)
        /// Tagged copies in this folder, mirroring the input folders.
        case mirror(String)
        /// Nothing is written.
        case dryRun
    }

    public var destination: Destination
    public var tags: FaceTags

    public init(destination: Destination, tags: FaceTags) {
        self.destination = destination
        self.tags = tags
    }

    public func sink(inputs: [String]) throws -> OutputSink {
        switch destination {
        case .dryRun: return NullSink()
        case .inPlace(let keep, let backup):
            let s = InPlaceSink()
            s.keepModificationTime = keep
            s.backup = backup
            return s
        case .sidecar(let naming): return SidecarSink(naming: naming)
        case .mirror(let dir): return try DirectorySink(directory: dir, template: "{dir}/{name}", inputs: InputIdentities(paths: inputs))
        }
    }

    public var io: any FrameIO {
        if case .sidecar(let naming) = destination { return SidecarIO(naming: naming) }
        return ImageFileIO()
    }

    /// Whether an earlier run with this run's state already tagged the photo where this run writes.
    public func isDone(_ entry: InputWalk.Entry) -> Bool {
        guard let state = tags.state else { return false }
        return (try? recordedState(entry)) == state
    }

    /// The `cnnpipe:TagState` recorded where this run would write (a dry run looks where a sidecar
    /// or the photo would hold it).
    public func recordedState(_ entry: InputWalk.Entry) throws -> String? {
        let packet: [UInt8]?
        switch destination {
        case .sidecar(let naming):
            packet = try XMPFiles.readSidecar(XMPFiles.sidecarPath(for: entry.path, naming: naming))
        case .mirror(let dir):
            let dest = ((dir as NSString).appendingPathComponent(entry.relativeDirectory) as NSString)
                .appendingPathComponent((entry.path as NSString).lastPathComponent)
            packet = FileManager.default.fileExists(atPath: dest) ? try XMPFiles.embeddedXMP(path: dest) : nil
        case .inPlace, .dryRun:
            packet = try XMPFiles.embeddedXMP(path: entry.path)
        }
        return packet.flatMap(FaceTags.state)
    }

    /// Removes temp files that a killed earlier run left in the folders this run writes into.
    public func sweepTempFiles(photos: [String]) {
        switch destination {
        case .dryRun, .mirror: return
        case .inPlace, .sidecar: Set(photos.map { ($0 as NSString).deletingLastPathComponent }).forEach(TempFiles.sweep)
        }
    }
}
