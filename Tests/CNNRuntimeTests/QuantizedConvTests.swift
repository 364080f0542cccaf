import Foundation
import XCTest
@testable import CNNRuntime

/// The int8 QDQ convolutions of the Magenta models on oneDNN's integer kernels, on the parity cases'
/// real inputs: every convolution is fused and runs in integers, and each one's output is within one
/// quantisation step of the float ops it replaced (DequantizeLinear → Conv → QuantizeLinear).
final class QuantizedConvTests: XCTestCase {
    private func magentaCases() throws -> [ParityTests.Case] {
        guard Session.integerConvolutions else {
            throw XCTSkip("no exact int8 convolution here (needs oneDNN 2.x and VNNI/AMX; CNNPIPE_INT8=0 turns it off)")
        }
        let all = try ParityTests.cases().filter { $0.model != "multistyle26" }
        XCTAssertEqual(all.count, 4)
        return all
    }

    func testEveryQDQConvolutionIsFusedAndRunsInIntegers() throws {
        for c in try magentaCases() {
            let session = try Session(path: ParityTests.models + "/\(c.model).onnx", threads: 2)
            let convolutions = session.graph.nodes.filter { $0.opType == "Conv" }.count
            XCTAssertEqual(session.report.fusedQuantizedConvolutions, convolutions, c.name)
            XCTAssertEqual(session.steps.filter { $0.node.opType == "Conv" && !($0.kernel is QuantizedConvKernel) }.count, 0, c.name)
            _ = try session.run(try feeds(c))
            for step in session.steps { if let k = step.kernel as? QuantizedConvKernel { XCTAssertTrue(k.ranInteger, step.node.name) } }
        }
    }

    func testIntegerConvolutionsAreWithinOneStepOfTheFloatOps() throws {
        for c in try magentaCases() {
            let session = try Session(path: ParityTests.models + "/\(c.model).onnx", threads: 2)
            let values = try session.execute(try feeds(c), keepAll: true)
            let ctx = ExecutionContext(threads: 2)
            var elements = 0, equal = 0, worst = 0
            for step in session.steps {
                guard let k = step.kernel as? QuantizedConvKernel, let x = values[step.inputs[0]!], let y = values[step.outputs[0]] else { continue }
                let a = y.int64s, b = try k.runInFloat(x, ctx).int64s
                XCTAssertEqual(a.count, b.count, step.node.name)
                let diffs = zip(a, b).map { abs(Int($0 - $1)) }
                worst = max(worst, diffs.max() ?? 0)
                elements += diffs.count
                equal += diffs.filter { $0 == 0 }.count
                XCTAssertLessThanOrEqual(diffs.max() ?? 0, 1, step.node.name)
            }
            let share = Double(equal) / Double(max(1, elements))
            print("int8 vs float QDQ \(c.name): \(elements) outputs, \(String(format: "%.4f", share * 100))% equal, max \(worst) step")
            XCTAssertGreaterThan(share, 0.999, c.name)
        }
    }

    private func feeds(_ c: ParityTests.Case) throws -> [String: Tensor] {
        var feeds: [String: Tensor] = [:]
        for (name, file) in c.inputs { feeds[name] = try NPY.read(path: ParityTests.references + "/\(file).npy") }
        return feeds
    }
}
