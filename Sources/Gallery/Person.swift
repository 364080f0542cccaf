import Foundation

/// One enrolled person as `Gallery.people()` lists them.
public struct Person: Sendable, Equatable, Codable {
    public var name: String
    public var notes: String?
    public var embeddingCount: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(name: String, notes: String?, embeddingCount: Int, createdAt: Date, updatedAt: Date) {
        self.name = name
        self.notes = notes
        self.embeddingCount = embeddingCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What `enroll` and `importJSON` did.
public struct EnrolmentSummary: Sendable, Equatable {
    public var peopleAdded = 0
    public var peopleUpdated = 0
    public var embeddingsAdded = 0
    /// Embeddings the person already had (the same 128 numbers), not stored twice.
    public var embeddingsAlreadyPresent = 0
    /// An imported head became the gallery's (it had none).
    public var headImported = false

    public init() {}

    static func + (a: EnrolmentSummary, b: EnrolmentSummary) -> EnrolmentSummary {
        var s = a
        s.peopleAdded += b.peopleAdded
        s.peopleUpdated += b.peopleUpdated
        s.embeddingsAdded += b.embeddingsAdded
        s.embeddingsAlreadyPresent += b.embeddingsAlreadyPresent
        s.headImported = a.headImported || b.headImported
        return s
    }
}

/// A gallery error: one line, meant to be printed as it is.
public struct GalleryError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
