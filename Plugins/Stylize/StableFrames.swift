import CNNRuntime
import FrameModel

/// What `stylize temporal=stable` keeps between video frames. The host starts a frame before the
/// previous one has finished, so a frame's network runs on the statistics the frame two before it
/// left (known by then; a moving average barely moves in one frame); the scene-cut test, the
/// blend with the previous result and the moving average itself then go in stream order.
struct StableFrames {
    /// After the last finished frame, and its position.
    var last = TemporalState()
    var lastPosition = -1
    /// The brightness of the frames in flight (for the motion, found before their turn).
    var grays: [Int: FloatImage] = [:]
    /// Position of the current scene's first frame.
    var scene = 0
    /// For a host that does not number the frames (they then come one at a time).
    var unnumbered = 0
    /// The moving average each of the last few finished frames left, and its scene.
    private var recent: [(position: Int, scene: Int, statistics: [[Float]])] = []

    /// The statistics of the latest finished frame at or before `position`, and their scene.
    func statistics(upTo position: Int) -> (scene: Int, statistics: [[Float]]) {
        recent.last { $0.position <= position }.map { ($0.scene, $0.statistics) } ?? (0, [])
    }

    mutating func finish(position: Int, scene: Int, _ state: TemporalState) {
        last = state
        lastPosition = position
        self.scene = scene
        grays = grays.filter { $0.key >= position }
        recent.append((position, scene, state.statistics))
        if recent.count > 3 { recent.removeFirst() }
    }
}
