import CNNRuntime
import Foundation
import GRDB

/// One person found for a query face: the name and the Euclidean distance to their closest embedding.
public struct GalleryMatch: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var distance: Float
    public init(name: String, distance: Float) { self.name = name; self.distance = distance }
    public var description: String { "\(name) \(distance)" }
}

/// Every embedding of a gallery in one contiguous row-major matrix (n × 128), each person's rows
/// together, for nearest-person search through BLAS:
///
///     ‖e − q‖² = ‖e‖² + ‖q‖² − 2 e·q
///
/// The row norms ‖e‖² are computed once. A query is a pass over the matrix in chunks of whole
/// people (~16k rows, 8 MiB): per chunk one sgemv (−2 E q; sgemm for a batch of queries), then, while
/// those scores are still in cache, each person's best row and a running selection of the best
/// people. Chunks are shared out over `threads` workers (single-threaded BLAS each, as the runtime's
/// convolutions do), since one core alone cannot read memory as fast as two. The selected people's
/// distances are then recomputed directly from the vectors, so what is reported is exact (the
/// expansion above loses digits for near-identical vectors) and ordered by the exact values.
///
/// Immutable after construction; safe to query from several threads at once.
public final class GalleryIndex: @unchecked Sendable {
    public static let dimension = Embedding.dimension
    /// Person index → name (people with no embeddings are left out).
    public let names: [String]
    /// The model identity of the gallery the embeddings come from (nil for an index built from arrays).
    public let modelIdentity: String?
    /// Number of embeddings (matrix rows).
    public let count: Int
    /// Worker threads per query.
    public let threads: Int
    let matrix: [Float]
    let rowNorms: [Float]
    /// Person p's rows are personStart[p] ..< personStart[p + 1].
    let personStart: [Int]
    /// Chunks of whole people: chunkStart[c] ..< chunkStart[c + 1] are person indices.
    let chunkStart: [Int]
    let maxChunkRows: Int

    static let chunkRows = 16_384

    /// An index over `matrix` (rows of 128 numbers) where row i belongs to `names[rowPerson[i]]`.
    /// Rows are regrouped by person (a copy only when they are not grouped already).
    public init(names: [String], rowPerson: [Int32], matrix: [Float], modelIdentity: String? = nil,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        let d = Self.dimension, n = rowPerson.count
        guard matrix.count == n * d else {
            throw GalleryError("index: \(matrix.count) numbers for \(n) rows of \(d)")
        }
        guard rowPerson.allSatisfy({ $0 >= 0 && Int($0) < names.count }) else { throw GalleryError("index: a row's person is out of range") }
        // Counting sort by person: offsets, then (when needed) the rows moved into place.
        var start = [Int](repeating: 0, count: names.count + 1)
        for p in rowPerson { start[Int(p) + 1] += 1 }
        for p in 0..<names.count { start[p + 1] += start[p] }
        if zip(rowPerson, rowPerson.dropFirst()).allSatisfy({ $0 <= $1 }) {
            self.matrix = matrix
        } else {
            var next = start
            var grouped = [Float](repeating: 0, count: matrix.count)
            grouped.withUnsafeMutableBufferPointer { g in
                matrix.withUnsafeBufferPointer { m in
                    for (r, p) in rowPerson.enumerated() {
                        (g.baseAddress! + next[Int(p)] * d).update(from: m.baseAddress! + r * d, count: d)
                        next[Int(p)] += 1
                    }
                }
            }
            self.matrix = grouped
        }
        self.names = names
        self.modelIdentity = modelIdentity
        self.threads = max(1, threads)
        count = n
        personStart = start
        rowNorms = Self.squaredNorms(self.matrix, rows: n)
        var chunks = [0], largest = 0
        var rows = 0
        for p in 0..<names.count {
            rows += start[p + 1] - start[p]
            if rows >= Self.chunkRows || p == names.count - 1 {
                chunks.append(p + 1); largest = max(largest, rows); rows = 0
            }
        }
        chunkStart = chunks
        maxChunkRows = largest
    }

    /// All embeddings of `gallery`, which must have been opened with its model identity (so the
    /// queries, made with the same model, are comparable).
    public convenience init(gallery: Gallery, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        guard gallery.identityChecked else {
            throw GalleryError("\(gallery.path): open the gallery with the model identity to match faces against it")
        }
        let (names, rowPerson, matrix) = try gallery.read { db -> ([String], [Int32], [Float]) in
            // Rows come grouped by person, people in name order: no regrouping afterwards.
            let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM embeddings") ?? 0
            var names: [String] = []
            var rowPerson = [Int32](repeating: 0, count: n)
            var matrix = [Float](repeating: 0, count: n * Self.dimension)
            var i = 0, lastID: Int64 = -1
            try matrix.withUnsafeMutableBufferPointer { m in
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT p.id, p.name, e.vector FROM embeddings e JOIN people p ON p.id = e.person_id ORDER BY p.name, e.id
                    """)
                while let row = try rows.next(), i < n {
                    let id = try Gallery.decode(Int64.self, row, "id", path: gallery.path)
                    if id != lastID { names.append(try Gallery.decode(String.self, row, "name", path: gallery.path)); lastID = id }
                    let blob = try Gallery.decode(Data.self, row, "vector", path: gallery.path)
                    let vector = m.baseAddress! + i * Self.dimension
                    guard Embedding.decode(blob, into: vector) else {
                        throw GalleryError("\(gallery.path): an embedding of \(blob.count) bytes (corrupt gallery)")
                    }
                    // A NaN or infinite number would make the embedding silently never match.
                    guard UnsafeBufferPointer(start: vector, count: Self.dimension).allSatisfy(\.isFinite) else {
                        throw GalleryError("\(gallery.path): an embedding of '\(printable(names.last ?? ""))' has a NaN or infinite number (corrupt gallery)")
                    }
                    rowPerson[i] = Int32(names.count - 1)
                    i += 1
                }
            }
            if i < n { rowPerson.removeLast(n - i); matrix.removeLast((n - i) * Self.dimension) }     // (never copies the matrix)
            return (names, rowPerson, matrix)
        }
        try self.init(names: names, rowPerson: rowPerson, matrix: matrix, modelIdentity: gallery.modelIdentity, threads: threads)
    }

    static func squaredNorms(_ matrix: [Float], rows: Int) -> [Float] {
        matrix.withUnsafeBufferPointer { m in
            [Float](unsafeUninitializedCapacity: rows) { out, count in
                for r in 0..<rows {
                    let row = m.baseAddress! + r * dimension
                    var s: Float = 0
                    for j in 0..<dimension { s += row[j] * row[j] }
                    out[r] = s
                }
                count = rows
            }
        }
    }

    /// The `k` nearest people to `query` (each person's closest embedding), nearest first.
    public func nearest(_ query: [Float], k: Int = 1) throws -> [GalleryMatch] {
        try nearestMany([query], k: k)[0]
    }

    /// `nearest` for several queries with one pass over the matrix (sgemm per chunk instead of
    /// sgemv). Result i belongs to query i.
    public func nearestMany(_ queries: [[Float]], k: Int = 1) throws -> [[GalleryMatch]] {
        for (i, q) in queries.enumerated() { try Embedding.validate(q, queries.count == 1 ? "query" : "query \(i + 1)") }
        guard !queries.isEmpty else { return [] }
        guard count > 0, k > 0 else { return queries.map { _ in [] } }
        let want = min(names.count, k + 4)
        let perQuery = scan(queries, want: want)
        return queries.indices.map { j in
            var matches = perQuery[j].map { c in GalleryMatch(name: names[c.person], distance: exactDistance(row: c.row, queries[j])) }
            matches.sort { $0.distance < $1.distance || ($0.distance == $1.distance && $0.name < $1.name) }
            return Array(matches.prefix(k))
        }
    }

    /// A person's best row and its score ‖e‖² − 2 e·q (the distance² less ‖q‖²).
    struct Candidate { var score: Float; var person: Int; var row: Int }

    /// The `want` best people for each query: chunks over the workers, each worker keeping its own
    /// selection per query, merged at the end.
    private func scan(_ queries: [[Float]], want: Int) -> [[Candidate]] {
        let m = queries.count, d = Self.dimension
        let q = queries.flatMap { $0 }
        let chunks = chunkStart.count - 1
        var results = [[[Candidate]]]()
        let lock = NSLock()
        ThreadLender.withThreads(upTo: min(threads, chunks)) { workers in
            results = Array(repeating: [], count: workers)
            q.withUnsafeBufferPointer { qp in
                matrix.withUnsafeBufferPointer { e in
                    rowNorms.withUnsafeBufferPointer { norms in
                        personStart.withUnsafeBufferPointer { ps in
                            DispatchQueue.concurrentPerform(iterations: workers) { w in
                                var selections = [Selection](repeating: Selection(want: want), count: m)
                                let scores = UnsafeMutablePointer<Float>.allocate(capacity: maxChunkRows * m)
                                defer { scores.deallocate() }
                                var c = w
                                while c < chunks {
                                    let p0 = chunkStart[c], p1 = chunkStart[c + 1]
                                    let r0 = ps[p0], rows = ps[p1] - r0
                                    // scores[rows × m] = −2 · E[r0 ..< r0 + rows] · Qᵀ
                                    if m == 1 {
                                        LinearAlgebra.sgemv(m: rows, n: d, alpha: -2, a: e.baseAddress! + r0 * d, lda: d,
                                                            x: qp.baseAddress!, y: scores)
                                    } else {
                                        LinearAlgebra.sgemm(transB: true, m: rows, n: m, k: d, alpha: -2, a: e.baseAddress! + r0 * d, lda: d,
                                                            b: qp.baseAddress!, ldb: d, c: scores, ldc: m)
                                    }
                                    for p in p0..<p1 {
                                        let a = ps[p], b = ps[p + 1]
                                        guard a < b else { continue }
                                        for j in 0..<m {
                                            var best = Float.infinity, bestRow = a
                                            for r in a..<b {
                                                let v = norms[r] + scores[(r - r0) * m + j]
                                                if v < best { best = v; bestRow = r }
                                            }
                                            selections[j].offer(Candidate(score: best, person: p, row: bestRow))
                                        }
                                    }
                                    c += workers
                                }
                                lock.lock()
                                results[w] = selections.map(\.items)
                                lock.unlock()
                            }
                        }
                    }
                }
            }
        }
        return (0..<m).map { j in
            var merged = Selection(want: want)
            for r in results { for c in r[j] { merged.offer(c) } }
            return merged.items
        }
    }

    /// The `want` candidates with the smallest scores seen so far, sorted; a new one enters only
    /// below the worst kept.
    struct Selection {
        let want: Int
        var items: [Candidate] = []
        init(want: Int) { self.want = want; items.reserveCapacity(want + 1) }

        @inline(__always)
        mutating func offer(_ c: Candidate) {
            if items.count == want {
                guard c.score < items[want - 1].score else { return }
                items.removeLast()
            }
            var lo = 0, hi = items.count
            while lo < hi { let mid = (lo + hi) / 2; if items[mid].score <= c.score { lo = mid + 1 } else { hi = mid } }
            items.insert(c, at: lo)
        }
    }

    /// The embeddings of person `name` (in the index's order).
    public func embeddings(of name: String) -> [[Float]] {
        guard let p = names.firstIndex(of: name) else { return [] }
        return (personStart[p]..<personStart[p + 1]).map(row)
    }

    /// The embedding in matrix row `i`.
    public func row(_ i: Int) -> [Float] { Array(matrix[i * Self.dimension ..< (i + 1) * Self.dimension]) }

    /// ‖e_row − q‖ computed from the differences.
    func exactDistance(row: Int, _ query: [Float]) -> Float {
        matrix.withUnsafeBufferPointer { m in
            var s: Float = 0
            let e = m.baseAddress! + row * Self.dimension
            for j in 0..<Self.dimension { let d = e[j] - query[j]; s += d * d }
            return s.squareRoot()
        }
    }
}
