import ArgumentParser

/// `cnnpipe gallery …`: people and their face embeddings in a SQLite gallery (see Sources/Gallery).
struct GalleryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery", abstract: "Enrol people from photos and manage face galleries (SQLite).",
        subcommands: [])
}
