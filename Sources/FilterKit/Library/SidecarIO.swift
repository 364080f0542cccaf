import FrameModel
import ImageIO

/// Frames for tagging into XMP sidecars: the faces a photo already has come from its sidecar (or,
/// when the sidecar has no regions, from the photo's own XMP), and the output is the sidecar's
/// packet with the faces and tags merged in — every other field of an existing sidecar kept.
public struct SidecarIO: FrameIO {
    public let naming: XMPFiles.SidecarNaming

    public init(naming: XMPFiles.SidecarNaming) { self.naming = naming }

    public func decode(_ input: InputItem, limits: DecodeLimits) throws -> DecodedImage {
        var decoded = try Codec.decode(input.bytes, limits: limits)
        if let sidecar = try XMPFiles.readSidecar(XMPFiles.sidecarPath(for: input.path, naming: naming)),
           XMPFaceRegions.hasRegions(sidecar) {
            decoded.metadata.annotations.faces = XMPFaceRegions.read(
                sidecar, width: decoded.image.width, height: decoded.image.height,
                orientation: decoded.metadata.source?.orientation ?? .upright)
        }
        return decoded
    }

    /// The new sidecar packet; the old one's bytes when nothing changes; empty when there is no sidecar and nothing to write.
    public func encode(_ frame: HostFrame, as format: ImageFormat, input: InputItem, options: EncodeOptions) throws -> [UInt8] {
        let path = XMPFiles.sidecarPath(for: input.path, naming: naming)
        let old = try XMPFiles.readSidecar(path)
        let packet = try Codec.xmpPacket(frame.annotations.faces, width: frame.width, height: frame.height,
                                         orientation: frame.metadata.source?.orientation ?? .upright,
                                         tags: options.faceTags, into: old)
        return packet ?? old ?? []
    }
}
