@testable import CNNRuntime
import XCTest

/// The session's buffer pool holds about one run's worth of buffers, however many input sizes it
/// has seen (face detection runs tiles of many sizes; a library has photos of many sizes).
final class BufferPoolTests: XCTestCase {
    func testBuffersUnusedByARunAreFreedAtItsEnd() {
        let pool = BufferPool()
        let first = pool.beginRun()
        var held = [pool.take(100_000), pool.take(50_000)]
        held.removeAll()                        // both back in the pool
        pool.endRun(first)
        let kept = pool.bytesHeld
        XCTAssertGreaterThan(kept, 0, "a run keeps the buffers it used")

        let second = pool.beginRun()
        let reused = pool.take(90_000)          // takes the 100k buffer (within 2x)
        XCTAssertEqual(reused.capacity, BufferPool.bucket(100_000))
        pool.endRun(second)                     // the 50k one was not used: freed
        XCTAssertEqual(pool.bytesHeld, 0)
        _ = reused
    }

    func testPoolDoesNotGrowWithEveryInputSize() throws {
        let graph = ModelGraph(name: "pool", nodes: [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"], attributes: ["pads": .ints([1, 1, 1, 1])]),
            Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["r"]),
            Node(name: "scale", opType: "Mul", inputs: ["r", "k"], outputs: ["y"]),
        ], inputs: [ValueInfo(name: "x", elementType: .float, shape: nil)], outputs: [ValueInfo(name: "y", elementType: nil, shape: nil)],
           initializers: ["w": Tensor(shape: [8, 3, 3, 3], floats: (0..<216).map { Float($0 % 7) / 7 }), "k": .scalar(0.5)],
           opsetVersion: 17)
        func image(_ side: Int) -> Tensor { Tensor(shape: [1, 3, side, side], floats: (0..<3 * side * side).map { Float($0 % 13) }) }

        let varied = try Session(graph, threads: 1)
        for side in stride(from: 20, through: 400, by: 20) { _ = try varied.run(["x": image(side)]) }
        let once = try Session(graph, threads: 1)
        _ = try once.run(["x": image(400)])
        XCTAssertGreaterThan(once.pool.bytesHeld, 0)
        XCTAssertLessThanOrEqual(varied.pool.bytesHeld, 2 * once.pool.bytesHeld,
                                 "20 input sizes: \(varied.pool.bytesHeld) bytes held vs \(once.pool.bytesHeld) for one")
    }
}
