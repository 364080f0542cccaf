import CFreeType
import Foundation

/// Renders text with FreeType into 8-bit coverage masks.
public final class TextRenderer {
    public struct Mask {
        public var width: Int
        public var height: Int
        public var coverage: [UInt8]
    }

    public static let defaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

    private var library: FT_Library?
    private var face: FT_Face?
    private let lock = NSLock()

    public init(fontPath: String = TextRenderer.defaultFont) throws {
        guard FT_Init_FreeType(&library) == 0 else { throw TextError("FreeType failed to initialise") }
        guard FT_New_Face(library, fontPath, 0, &face) == 0 else {
            FT_Done_FreeType(library)
            throw TextError("cannot load font \(fontPath) (install fonts-dejavu-core or set font=PATH)")
        }
    }

    deinit {
        FT_Done_Face(face)
        FT_Done_FreeType(library)
    }

    /// A mask of `text` at `pixelSize`, tightly spanning ascender to descender.
    public func render(_ text: String, pixelSize: Int) -> Mask {
        lock.lock()
        defer { lock.unlock() }
        guard let face else { return Mask(width: 0, height: 0, coverage: []) }
        FT_Set_Pixel_Sizes(face, 0, FT_UInt(max(4, pixelSize)))
        let metrics = face.pointee.size.pointee.metrics
        let ascender = Int(metrics.ascender >> 6), height = Int((metrics.ascender - metrics.descender) >> 6)
        // First pass: width.
        var width = 0
        for scalar in text.unicodeScalars where FT_Load_Char(face, FT_ULong(scalar.value), FT_Int32(FT_LOAD_DEFAULT)) == 0 {
            width += Int(face.pointee.glyph.pointee.advance.x >> 6)
        }
        var mask = Mask(width: max(1, width), height: max(1, height), coverage: [UInt8](repeating: 0, count: max(1, width) * max(1, height)))
        var penX = 0
        for scalar in text.unicodeScalars {
            guard FT_Load_Char(face, FT_ULong(scalar.value), FT_Int32(FT_LOAD_RENDER)) == 0 else { continue }
            let glyph = face.pointee.glyph.pointee
            let bitmap = glyph.bitmap
            let left = penX + Int(glyph.bitmap_left), top = ascender - Int(glyph.bitmap_top)
            if let buffer = bitmap.buffer {
                for row in 0..<Int(bitmap.rows) {
                    let y = top + row
                    guard y >= 0, y < mask.height else { continue }
                    for col in 0..<Int(bitmap.width) {
                        let x = left + col
                        guard x >= 0, x < mask.width else { continue }
                        let v = buffer[row * Int(bitmap.pitch) + col]
                        mask.coverage[y * mask.width + x] = max(mask.coverage[y * mask.width + x], v)
                    }
                }
            }
            penX += Int(glyph.advance.x >> 6)
        }
        return mask
    }
}

public struct TextError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
