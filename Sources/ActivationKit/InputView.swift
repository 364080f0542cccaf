import FrameModel

/// How a frame becomes the model's input: a centre crop (to a fixed input's aspect ratio) resized to
/// the model size. Model pixel p is frame pixel offset + p·scale on each axis.
public struct InputView: Sendable, Equatable {
    public var modelWidth: Int, modelHeight: Int
    public var offsetX: Double, offsetY: Double
    public var scaleX: Double, scaleY: Double
    let cropX: Int, cropY: Int, cropWidth: Int, cropHeight: Int

    public init(frameWidth: Int, frameHeight: Int, fixed: (height: Int, width: Int)?, workingSize: Int) {
        if let fixed {
            // The largest centred crop with the model's aspect ratio.
            let aspect = Double(fixed.width) / Double(fixed.height)
            var cw = frameWidth, ch = Int((Double(frameWidth) / aspect).rounded())
            if ch > frameHeight { ch = frameHeight; cw = min(frameWidth, Int((Double(frameHeight) * aspect).rounded())) }
            (cropX, cropY, cropWidth, cropHeight) = ((frameWidth - cw) / 2, (frameHeight - ch) / 2, max(1, cw), max(1, ch))
            (modelWidth, modelHeight) = (fixed.width, fixed.height)
        } else {
            let longer = max(frameWidth, frameHeight)
            let s = workingSize > 0 ? Double(workingSize) / Double(longer) : 1
            (cropX, cropY, cropWidth, cropHeight) = (0, 0, frameWidth, frameHeight)
            (modelWidth, modelHeight) = (max(1, Int((Double(frameWidth) * s).rounded())), max(1, Int((Double(frameHeight) * s).rounded())))
        }
        (offsetX, offsetY) = (Double(cropX), Double(cropY))
        (scaleX, scaleY) = (Double(cropWidth) / Double(modelWidth), Double(cropHeight) / Double(modelHeight))
    }

    /// The frame's crop resized to the model size (RGB).
    func modelInput(from image: FloatImage) -> FloatImage {
        var crop = image
        if cropWidth != image.width || cropHeight != image.height {
            crop = FloatImage(width: cropWidth, height: cropHeight, channels: image.channels)
            let row = cropWidth * image.channels
            image.samples.withUnsafeBufferPointer { src in
                crop.samples.withUnsafeMutableBufferPointer { dst in
                    for y in 0..<cropHeight {
                        let from = ((cropY + y) * image.width + cropX) * image.channels
                        (dst.baseAddress! + y * row).update(from: src.baseAddress! + from, count: row)
                    }
                }
            }
        }
        guard crop.width != modelWidth || crop.height != modelHeight else { return crop }
        return Resampler.resize(crop, width: modelWidth, height: modelHeight, filter: .lanczos3)
    }
}
