import ArgumentParser
import CNNRuntime
import Foundation
import Gallery

/// `cnnpipe-bench gallery-search` (for benchmarks/gallery-search.sh): nearest-person search over
/// synthetic embeddings, and the gallery's write and load rates.
struct GallerySearch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery-search", abstract: "Time nearest-person search over synthetic embeddings, and gallery writes and loads.")

    @Option(help: "Synthetic embeddings in the index (random directions, unit length).") var embeddings = 1_000_000
    @Option(help: "People they belong to (default: one person per embedding, the most work per query).") var people: Int?
    @Option(help: "Timed single queries (the median is reported).") var queries = 51
    @Option(help: "Queries per nearestMany batch (0: skip).") var batch = 8
    @Option(help: "Nearest people per query.") var k = 5
    @Option(help: "Worker threads per query.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Also time this many single enrolments (one transaction each) into a new gallery file (0: skip).")
    var enrolments = 0
    @Option(help: "Also write this many synthetic embeddings into a gallery file and time loading them as an index (0: skip).")
    var loadTest = 0
    @Option(help: "Folder for the gallery files of --enrolments / --load-test (default: a temporary folder).") var dir: String?
    @Flag(help: "One JSON object instead of text.") var json = false

    func validate() throws {
        guard embeddings >= 1, queries >= 1, k >= 1, threads >= 1, batch >= 0 else { throw ValidationError("counts must be positive") }
        if let people, people < 1 || people > embeddings { throw ValidationError("--people must be 1...embeddings") }
    }

    func run() throws {
        var results: [String: Any] = ["embeddings": embeddings, "threads": threads, "k": k, "blas_core": LinearAlgebra.coreName]
        var rng = BenchRandom(seed: 42)
        let d = Embedding.dimension, peopleCount = people ?? embeddings

        // The index: a matrix of unit vectors, rows grouped by person (row i: person i · people / embeddings).
        var t0 = now()
        var matrix = [Float](repeating: 0, count: embeddings * d)
        matrix.withUnsafeMutableBufferPointer { m in
            for r in 0..<embeddings { rng.unitVector(m.baseAddress! + r * d, d) }
        }
        let rowPerson = (0..<embeddings).map { Int32($0 * peopleCount / embeddings) }
        let names = (0..<peopleCount).map { "person \($0)" }
        let generated = now() - t0
        t0 = now()
        let index = try GalleryIndex(names: names, rowPerson: rowPerson, matrix: matrix, threads: threads)
        let built = now() - t0
        matrix = []      // the index holds the only copy now
        results["generate_s"] = generated
        results["index_build_ms"] = built * 1000
        results["matrix_mib"] = Double(embeddings * d * 4) / 1_048_576

        // Sanity: a stored row plus a little noise finds its own person first.
        let probeRow = embeddings / 3
        var probe = index.row(probeRow)
        for j in 0..<d { probe[j] += Float(rng.uniform() * 0.002 - 0.001) }
        let found = try index.nearest(probe, k: 1)
        let probePerson = names[probeRow * peopleCount / embeddings]
        guard found.first?.name == probePerson else {
            throw BenchFailure("sanity check failed: a stored embedding's nearest person is \(found.first?.name ?? "nobody"), not \(probePerson)")
        }

        // Single queries: a new random query each time; warm-up first.
        let queryVectors = (0..<(queries + 3)).map { _ in rng.unitVector(d) }
        var times: [Double] = []
        for (i, q) in queryVectors.enumerated() {
            let t = now()
            _ = try index.nearest(q, k: k)
            if i >= 3 { times.append((now() - t) * 1000) }
        }
        times.sort()
        results["query_ms_median"] = times[times.count / 2]
        results["query_ms_min"] = times[0]
        results["query_ms_p90"] = times[min(times.count - 1, times.count * 9 / 10)]
        results["queries"] = times.count
        // The matrix is read once per query: the memory bandwidth that achieves.
        results["query_gb_per_s"] = Double(embeddings * d * 4) / (times[times.count / 2] / 1000) / 1e9

        if batch > 0 {
            var batchTimes: [Double] = []
            for i in 0..<(max(5, queries / batch) + 1) {
                let qs = (0..<batch).map { _ in rng.unitVector(d) }
                let t = now()
                _ = try index.nearestMany(qs, k: k)
                if i > 0 { batchTimes.append((now() - t) * 1000) }
            }
            batchTimes.sort()
            results["batch"] = batch
            results["batch_ms_median"] = batchTimes[batchTimes.count / 2]
            results["batch_ms_per_query"] = batchTimes[batchTimes.count / 2] / Double(batch)
        }

        if enrolments > 0 || loadTest > 0 {
            let folder = dir ?? NSTemporaryDirectory() + "cnnpipe-gallery-bench-\(getpid())"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { if dir == nil { try? FileManager.default.removeItem(atPath: folder) } }
            let identity = String(repeating: "0", count: 64)
            if enrolments > 0 {
                // What `enroll` does per person: one transaction with one embedding.
                let path = folder + "/enrol.db"
                try? FileManager.default.removeItem(atPath: path)
                let g = try Gallery(path: path, modelIdentity: identity)
                let t = now()
                for i in 0..<enrolments {
                    _ = try g.enroll(name: "person \(i)", embeddings: [rng.unitVector(d)], sources: ["photo-\(i).jpg"])
                }
                let s = now() - t
                results["enrolments"] = enrolments
                results["enrolments_per_s"] = Double(enrolments) / s
            }
            if loadTest > 0 {
                // Bulk import (10,000 people per transaction), then the index loaded from the file.
                let path = folder + "/load.db"
                try? FileManager.default.removeItem(atPath: path)
                let g = try Gallery(path: path, modelIdentity: identity)
                let date = Date()
                var t = now()
                var start = 0
                while start < loadTest {
                    let n = min(10_000, loadTest - start)
                    let doc = GalleryDocument(modelIdentity: identity, people: (start..<start + n).map {
                        GalleryDocument.PersonRecord(name: "person \($0)", notes: nil, createdAt: date, updatedAt: date,
                              embeddings: [GalleryDocument.EmbeddingRecord(source: nil, createdAt: date, vector: rng.unitVector(d))])
                    })
                    _ = try g.importDocument(doc)
                    start += n
                }
                results["bulk_insert_per_s"] = Double(loadTest) / (now() - t)
                t = now()
                let loaded = try GalleryIndex(gallery: g)
                results["load_embeddings"] = loaded.count
                results["load_s"] = now() - t
                results["gallery_file_mib"] = Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1_048_576
            }
        }

        if json {
            let data = try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        func f(_ key: String, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", results[key] as? Double ?? .nan) }
        print("index: \(embeddings) embeddings × \(d) (\(f("matrix_mib", 0)) MiB), \(peopleCount) people; generated in \(f("generate_s")) s, norms in \(f("index_build_ms", 1)) ms")
        print("BLAS: OpenBLAS \(LinearAlgebra.coreName), \(threads) thread\(threads == 1 ? "" : "s")")
        print("one query (k=\(k)): median \(f("query_ms_median")) ms, min \(f("query_ms_min")) ms, p90 \(f("query_ms_p90")) ms over \(times.count) queries (\(f("query_gb_per_s", 1)) GB/s)")
        if batch > 0 {
            print("batch of \(batch) (sgemm): median \(f("batch_ms_median")) ms, \(f("batch_ms_per_query")) ms per query")
        }
        if enrolments > 0 { print("enrolment (one transaction each): \(f("enrolments_per_s", 0)) per second over \(enrolments)") }
        if loadTest > 0 {
            print("bulk insert: \(f("bulk_insert_per_s", 0)) embeddings/s; loading \(loadTest) embeddings from the gallery file "
                + "(\(f("gallery_file_mib", 0)) MiB) into an index: \(f("load_s")) s")
        }
    }

    private func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
