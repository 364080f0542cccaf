/// Everything a frame carries besides its pixels. The JSON form of `annotations` is what crosses
/// the plugin boundary; see docs/METADATA.md for the schema.
public struct FrameMetadata: Sendable, Equatable {
    /// Embedded metadata carried from input to output when the output format can hold it.
    public var exif: [UInt8]?      // raw TIFF bytes, orientation already applied and reset to 1
    public var icc: [UInt8]?
    public var xmp: [UInt8]?
    public var annotations: Annotations
    /// The coded image these pixels were decoded from, while they are still exactly its pixels.
    /// The host drops it whenever a stage makes new pixels; an output frame that still has it can
    /// be written as the original file with only its metadata changed (no re-encoding).
    public var source: CodedSource?

    public init(exif: [UInt8]? = nil, icc: [UInt8]? = nil, xmp: [UInt8]? = nil,
                annotations: Annotations = Annotations(), source: CodedSource? = nil) {
        self.exif = exif
        self.icc = icc
        self.xmp = xmp
        self.annotations = annotations
        self.source = source
    }
}

/// An image file's bytes as read, its container format and the EXIF orientation its pixels were
/// turned upright with.
public struct CodedSource: Sendable, Equatable {
    public let bytes: [UInt8]
    /// "jpeg", "png" or "webp" (ImageIO's ImageFormat raw values).
    public let format: String
    public let orientation: Orientation

    public init(bytes: [UInt8], format: String, orientation: Orientation) {
        self.bytes = bytes
        self.format = format
        self.orientation = orientation
    }
}

/// Structured annotations that stages read and write.
public struct Annotations: Codable, Sendable, Equatable {
    /// Where the frame came from: file path, or "stdin#N".
    public var source: String?
    /// 0-based position of the source image in the input stream.
    public var index: Int?
    public var caption: String?
    public var faces: [Face]
    /// Free-form values stages attach for later stages or for `--json` (string values).
    public var tags: [String: String]

    public init(source: String? = nil, index: Int? = nil, caption: String? = nil,
                faces: [Face] = [], tags: [String: String] = [:]) {
        self.source = source
        self.index = index
        self.caption = caption
        self.faces = faces
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey { case source, index, caption, faces, tags }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        index = try c.decodeIfPresent(Int.self, forKey: .index)
        caption = try c.decodeIfPresent(String.self, forKey: .caption)
        faces = try c.decodeIfPresent([Face].self, forKey: .faces) ?? []
        tags = try c.decodeIfPresent([String: String].self, forKey: .tags) ?? [:]
    }
}

/// A face found in a frame. Coordinates are pixels of the frame as it is now (upright).
public struct Face: Codable, Sendable, Equatable {
    public struct Box: Codable, Sendable, Equatable {
        public var x: Double, y: Double, width: Double, height: Double
        public init(x: Double, y: Double, width: Double, height: Double) {
            self.x = x; self.y = y; self.width = width; self.height = height
        }
    }
    public struct Point: Codable, Sendable, Equatable {
        public var x: Double, y: Double
        public init(x: Double, y: Double) { self.x = x; self.y = y }
    }

    public var box: Box
    /// Detector score (higher is more certain); nil when the face came from the input's XMP.
    public var confidence: Double?
    /// dlib's 5-point order: right eye outer, right eye inner, left eye outer, left eye inner, nose base.
    public var landmarks: [Point]
    /// Identity once a stage has named the face; "unknown" when matched against nobody.
    public var name: String?
    /// Embedding distance to `name`.
    public var distance: Double?
    /// The nearest people after `name` (the identify stage's top-k), nearest first.
    public var candidates: [Candidate]?

    public struct Candidate: Codable, Sendable, Equatable {
        public var name: String
        public var distance: Double
        public init(name: String, distance: Double) { self.name = name; self.distance = distance }
    }

    public init(box: Box, confidence: Double? = nil, landmarks: [Point] = [], name: String? = nil,
                distance: Double? = nil, candidates: [Candidate]? = nil) {
        self.box = box
        self.confidence = confidence
        self.landmarks = landmarks
        self.name = name
        self.distance = distance
        self.candidates = candidates
    }

    enum CodingKeys: String, CodingKey { case box, confidence, landmarks, name, distance, candidates }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        box = try c.decode(Box.self, forKey: .box)
        confidence = try c.decodeIfPresent(Double.self, forKey: .confidence)
        landmarks = try c.decodeIfPresent([Point].self, forKey: .landmarks) ?? []
        name = try c.decodeIfPresent(String.self, forKey: .name)
        distance = try c.decodeIfPresent(Double.self, forKey: .distance)
        candidates = try c.decodeIfPresent([Candidate].self, forKey: .candidates)
    }
}
