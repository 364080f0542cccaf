/// Interleaved float samples (0...1) with the channel count of the source format: the working
/// form of the pixel stages (Basics, Stylize), so 8-bit, 16-bit and float frames all keep their precision.
public struct FloatImage: Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var samples: [Float]

    public init(width: Int, height: Int, channels: Int, samples: [Float]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.samples = samples
    }

    public init(width: Int, height: Int, channels: Int, fill: Float = 0) {
        self.init(width: width, height: height, channels: channels,
                  samples: [Float](repeating: fill, count: width * height * channels))
    }

    public init(_ image: Image) {
        self.init(width: image.width, height: image.height, channels: image.format.channels, samples: image.floatSamples())
    }

    public func image(_ format: PixelFormat) -> Image {
        Image(width: width, height: height, format: format, floatSamples: samples)
    }

    public var rowLength: Int { width * channels }
}

extension Annotations {
    /// The same annotations with every face box and landmark mapped through `map`
    /// (a transform that maps rectangles to rectangles: scale, shift, quarter turns, flips).
    public func mappingFaces(_ map: (Face.Point) -> Face.Point) -> Annotations {
        var copy = self
        copy.faces = faces.map { face in
            var f = face
            let a = map(.init(x: face.box.x, y: face.box.y))
            let b = map(.init(x: face.box.x + face.box.width, y: face.box.y + face.box.height))
            f.box = .init(x: min(a.x, b.x), y: min(a.y, b.y), width: abs(b.x - a.x), height: abs(b.y - a.y))
            f.landmarks = face.landmarks.map(map)
            return f
        }
        return copy
    }
}
